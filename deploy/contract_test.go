package deploy_test

// column is one column of a BI view: its name and ClickHouse type.
type column struct{ name, typ string }

// contract is the column contract of the ClickHouse BI views (issue 4): the
// clickhouse package creates them, the Grafana dashboard reads them. Keep it
// in step with the views' documentation.
var contract = map[string][]column{
	"meetings_v": {
		{"app_id", "String"}, {"session_id", "String"}, {"kind", "String"}, {"status", "String"},
		{"outcome", "String"}, {"started_at", "DateTime"}, {"ended_at", "Nullable(DateTime)"},
		{"duration_seconds", "UInt64"}, {"participant_count", "UInt32"}, {"peak_concurrent", "UInt32"},
		{"total_attendance_seconds", "UInt64"}, {"recording_count", "UInt32"}, {"last_event_at", "DateTime"},
		{"audio_seconds", "UInt64"}, {"video_seconds", "UInt64"}, {"billable_audio_minutes", "UInt64"},
		{"billable_video_minutes", "UInt64"},
	},
	"attendance_v": {
		{"app_id", "String"}, {"session_id", "String"}, {"meeting_started_at", "DateTime"},
		{"participant", "String"}, {"name", "String"}, {"first_joined_at", "DateTime"},
		{"last_left_at", "Nullable(DateTime)"}, {"attended_seconds", "UInt64"},
		{"attendance_ratio", "Float64"}, {"join_count", "UInt32"}, {"audio_seconds", "UInt64"},
		{"video_seconds", "UInt64"},
	},
	"intervals_v": {
		{"app_id", "String"}, {"session_id", "String"}, {"participant", "String"},
		{"joined_at", "DateTime"}, {"left_at", "Nullable(DateTime)"},
	},
	"daily_durations_v": {
		{"app_id", "String"}, {"day", "Date"}, {"meetings", "UInt64"},
		{"total_duration_seconds", "UInt64"}, {"avg_duration_seconds", "Float64"},
	},
	"usage_v": {
		{"app_id", "String"}, {"day", "Date"}, {"meetings", "UInt64"}, {"participants", "UInt64"},
		{"attendance_seconds", "UInt64"}, {"audio_seconds", "UInt64"}, {"video_seconds", "UInt64"},
		{"billable_audio_minutes", "UInt64"}, {"billable_video_minutes", "UInt64"},
	},
	"recordings_v": {
		{"app_id", "String"}, {"session_id", "String"}, {"kind", "String"}, {"url", "String"},
		{"started_at", "DateTime"}, {"duration_seconds", "Float64"},
	},
}

// columnType returns the type of view.col in the contract.
func columnType(view, col string) (string, bool) {
	for _, c := range contract[view] {
		if c.name == col {
			return c.typ, true
		}
	}
	return "", false
}
