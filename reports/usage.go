package reports

import "time"

// UsageQuery selects ended and abandoned meetings by started_at in [From, To)
// for the usage report.
type UsageQuery struct {
	AppID    string
	From, To time.Time
	// Bucket is Day, Week or Month; anything else, "" included, is
	// ErrInvalidQuery.
	Bucket Bucket
	// Location is the zone of the buckets; nil is UTC.
	Location *time.Location
}

// Normalize returns q as every store reads it: Bucket one of the package's
// constants and Location never nil. A query without an AppID or with a Bucket
// other than Day, Week or Month is a *QueryError. Normalize is idempotent.
func (q UsageQuery) Normalize() (UsageQuery, error) {
	if q.AppID == "" {
		return q, errNoApp()
	}
	var err error
	if q.Bucket, err = bucketOf(q.Bucket, Day, Week, Month); err != nil {
		return q, err
	}
	q.Location = locationOf(q.Location)
	return q, nil
}

// UsageBucket sums the usage of the meetings that started in one bucket.
// Billable minutes are rounded up per attendance row (ceil(seconds/60) of
// each row, summed), never per bucket. The estimated cost is not a store's
// business: it is the billable minutes times the configured prices, computed
// by whoever serves the report.
type UsageBucket struct {
	// Start is in the query's Location.
	Start                time.Time `json:"start"`
	Meetings             int64     `json:"meetings"`
	Participants         int64     `json:"participants"`
	AttendanceSeconds    int64     `json:"attendance_seconds"`
	AudioSeconds         int64     `json:"audio_seconds"`
	VideoSeconds         int64     `json:"video_seconds"`
	BillableAudioMinutes int64     `json:"billable_audio_minutes"`
	BillableVideoMinutes int64     `json:"billable_video_minutes"`
}
