package deploy_test

import (
	"encoding/json"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const dashboardFile = "grafana/dashboards/meetingd.json"

// dashboard is the part of Grafana's dashboard model the tests look at.
type dashboard struct {
	UID        string  `json:"uid"`
	Title      string  `json:"title"`
	Schema     int     `json:"schemaVersion"`
	Panels     []panel `json:"panels"`
	Templating struct {
		List []variable `json:"list"`
	} `json:"templating"`
}

type panel struct {
	ID         int            `json:"id"`
	Type       string         `json:"type"`
	Title      string         `json:"title"`
	Datasource *datasourceRef `json:"datasource"`
	GridPos    map[string]int `json:"gridPos"`
	Targets    []target       `json:"targets"`
	Panels     []panel        `json:"panels"` // a row's panels
	Options    map[string]any `json:"options"`
	FieldCfg   map[string]any `json:"fieldConfig"`
}

type target struct {
	RefID      string         `json:"refId"`
	Datasource *datasourceRef `json:"datasource"`
	EditorType string         `json:"editorType"`
	QueryType  string         `json:"queryType"`
	Format     *int           `json:"format"`
	RawSQL     string         `json:"rawSql"`
}

type datasourceRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type variable struct {
	Name       string         `json:"name"`
	Type       string         `json:"type"`
	Query      any            `json:"query"`
	Datasource *datasourceRef `json:"datasource"`
	Current    map[string]any `json:"current"`
	Multi      bool           `json:"multi"`
	IncludeAll bool           `json:"includeAll"`
}

const pluginID = "grafana-clickhouse-datasource"

func loadDashboard(t *testing.T) dashboard {
	t.Helper()
	b, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	return d
}

// allPanels returns the dashboard's panels, rows flattened.
func allPanels(d dashboard) []panel {
	var out []panel
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			if p.Type != "row" {
				out = append(out, p)
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	return out
}

// query is one panel query of the dashboard.
type query struct {
	panel  panel
	target target
}

func (q query) name() string { return q.panel.Title + "/" + q.target.RefID }

func dashboardQueries(t *testing.T) []query {
	t.Helper()
	var qs []query
	for _, p := range allPanels(loadDashboard(t)) {
		for _, tg := range p.Targets {
			qs = append(qs, query{p, tg})
		}
	}
	if len(qs) == 0 {
		t.Fatal("the dashboard has no queries")
	}
	return qs
}

func TestDashboardStructure(t *testing.T) {
	d := loadDashboard(t)
	if d.UID == "" || d.Title == "" || d.Schema == 0 {
		t.Errorf("uid %q, title %q, schemaVersion %d: all required", d.UID, d.Title, d.Schema)
	}
	vars := map[string]variable{}
	for _, v := range d.Templating.List {
		vars[v.Name] = v
	}
	ds, ok := vars["datasource"]
	if !ok || ds.Type != "datasource" || ds.Query != pluginID {
		t.Errorf("variable datasource %+v: want a data source variable of the %s plugin", ds, pluginID)
	}
	app, ok := vars["app_id"]
	switch {
	case !ok || app.Type != "query":
		t.Errorf("variable app_id %+v: want a query variable", app)
	case app.Datasource == nil || app.Datasource.Type != pluginID || app.Datasource.UID != "${datasource}":
		t.Errorf("variable app_id datasource %+v: want the ClickHouse data source variable", app.Datasource)
	case app.Multi || app.IncludeAll:
		t.Error("variable app_id: one app at a time (queries compare app_id = ${app_id:singlequote})")
	default:
		q, _ := app.Query.(string)
		if r := lintSQL(q, lintOptions{}); len(r.problems) > 0 || !slices.Equal(r.views, []string{"meetings_v"}) {
			t.Errorf("variable app_id query %q: views %v, %v", q, r.views, r.problems)
		}
	}

	ids := map[int]bool{}
	for _, p := range allPanels(d) {
		if ids[p.ID] {
			t.Errorf("panel id %d used twice", p.ID)
		}
		ids[p.ID] = true
		if p.Title == "" || len(p.GridPos) != 4 {
			t.Errorf("panel %d: title %q, gridPos %v", p.ID, p.Title, p.GridPos)
		}
		if p.Datasource == nil || p.Datasource.Type != pluginID || p.Datasource.UID != "${datasource}" {
			t.Errorf("panel %q: datasource %+v", p.Title, p.Datasource)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
	}
}

// TestDashboardQueries checks every panel query: the plugin's SQL query
// format, and SQL that reads only contract views and columns, is scoped to
// the selected app and to the dashboard's time range.
func TestDashboardQueries(t *testing.T) {
	viewsUsed := map[string]bool{}
	for _, q := range dashboardQueries(t) {
		t.Run(q.name(), func(t *testing.T) {
			tg := q.target
			if tg.Datasource == nil || tg.Datasource.Type != pluginID || tg.Datasource.UID != "${datasource}" {
				t.Errorf("datasource %+v", tg.Datasource)
			}
			if tg.EditorType != "sql" || tg.RefID == "" || strings.TrimSpace(tg.RawSQL) == "" {
				t.Errorf("editorType %q, refId %q, rawSql %q: want an SQL-editor query", tg.EditorType, tg.RefID, tg.RawSQL)
			}
			// The plugin's formats: 0 time series, 1 table.
			wantFormat, wantType := 1, "table"
			if q.panel.Type == "timeseries" {
				wantFormat, wantType = 0, "timeseries"
				if !regexp.MustCompile(`(?i)^SELECT\s+\S.*?\s+AS\s+time\b`).MatchString(tg.RawSQL) {
					t.Errorf("a time series query selects its time column first, AS time: %q", tg.RawSQL)
				}
			}
			if tg.Format == nil || *tg.Format != wantFormat || tg.QueryType != wantType {
				t.Errorf("format %v, queryType %q: want %d, %q for a %s panel", tg.Format, tg.QueryType, wantFormat, wantType, q.panel.Type)
			}
			r := lintSQL(tg.RawSQL, lintOptions{timeFilter: true, appFilter: true})
			for _, p := range r.problems {
				t.Error(p)
			}
			for _, v := range r.views {
				viewsUsed[v] = true
			}
		})
	}
	for _, v := range []string{"meetings_v", "attendance_v", "daily_durations_v", "recordings_v", "usage_v"} {
		if !viewsUsed[v] {
			t.Errorf("no panel reads %s", v)
		}
	}
}

// TestDashboardCoversReports checks that the dashboard has the charts issues
// 4 and 18 ask for, each reading the view that holds its figures.
func TestDashboardCoversReports(t *testing.T) {
	byTitle := map[string]query{}
	for _, q := range dashboardQueries(t) {
		if _, ok := byTitle[q.panel.Title]; !ok {
			byTitle[q.panel.Title] = q
		}
	}
	for _, c := range []struct {
		title, panelType, view, mentions string
	}{
		{"Meetings per day", "timeseries", "daily_durations_v", "meetings"},
		{"Meeting time per day", "timeseries", "daily_durations_v", "total_duration_seconds"},
		{"Total meeting time", "stat", "meetings_v", "duration_seconds"},
		{"Average duration", "stat", "meetings_v", "duration_seconds"},
		{"Attendance distribution", "barchart", "attendance_v", "attendance_ratio"},
		{"Peak concurrency", "stat", "meetings_v", "peak_concurrent"},
		{"Peak concurrency per day", "timeseries", "meetings_v", "peak_concurrent"},
		{"Top participants by attended time", "table", "attendance_v", "attended_seconds"},
		{"Recordings", "table", "recordings_v", "url"},
		{"Minutes by medium per day", "timeseries", "usage_v", "billable_audio_minutes"},
		{"Estimated cost per month", "barchart", "usage_v", "${video_price_usd:singlequote}"},
	} {
		q, ok := byTitle[c.title]
		if !ok {
			t.Errorf("no panel %q", c.title)
			continue
		}
		r := lintSQL(q.target.RawSQL, lintOptions{})
		if q.panel.Type != c.panelType || !slices.Contains(r.views, c.view) || !strings.Contains(q.target.RawSQL, c.mentions) {
			t.Errorf("panel %q: %s over %v; want a %s over %s.%s", c.title, q.panel.Type, r.views, c.panelType, c.view, c.mentions)
		}
	}
}

// TestLintSQLRejects keeps the linter honest: each query breaks one rule.
func TestLintSQLRejects(t *testing.T) {
	app := "app_id = ${app_id:singlequote}"
	for _, tc := range []struct{ name, sql string }{
		{"unknown view", "SELECT count() FROM meetings WHERE " + app + " AND $__timeFilter(started_at)"},
		{"unknown column", "SELECT sum(duration) FROM meetings_v WHERE " + app + " AND $__timeFilter(started_at)"},
		{"column of another view", "SELECT sum(attended_seconds) FROM meetings_v WHERE " + app + " AND $__timeFilter(started_at)"},
		{"no time filter", "SELECT count() FROM meetings_v WHERE " + app},
		{"time filter on a non-time column", "SELECT count() FROM meetings_v WHERE " + app + " AND $__timeFilter(status)"},
		{"dateFilter on a DateTime", "SELECT count() FROM meetings_v WHERE " + app + " AND $__dateFilter(started_at)"},
		{"no app filter", "SELECT count() FROM meetings_v WHERE $__timeFilter(started_at)"},
		{"unquoted variable", "SELECT count() FROM meetings_v WHERE app_id = '$app_id' AND ${app_id} != '' AND $__timeFilter(started_at)"},
		{"unchecked function", "SELECT toStartOfInterval(started_at, INTERVAL 1 day) AS t FROM meetings_v WHERE " + app + " AND $__timeFilter(started_at)"},
		{"unchecked macro", "SELECT $__timeInterval(started_at) AS time FROM meetings_v WHERE " + app + " AND $__timeFilter(started_at)"},
		{"FINAL", "SELECT count() FROM meetings_v FINAL WHERE " + app + " AND $__timeFilter(started_at)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if r := lintSQL(tc.sql, lintOptions{timeFilter: true, appFilter: true}); len(r.problems) == 0 {
				t.Errorf("lintSQL accepted %q", tc.sql)
			}
		})
	}
	ok := "SELECT participant, sum(attended_seconds) AS total FROM attendance_v WHERE " + app +
		" AND $__timeFilter(meeting_started_at) AND name != 'it''s' GROUP BY participant ORDER BY total DESC"
	if r := lintSQL(ok, lintOptions{timeFilter: true, appFilter: true}); len(r.problems) > 0 {
		t.Errorf("lintSQL rejected a valid query: %v", r.problems)
	}
}

// provisioning files of Grafana.
type datasourceProvisioning struct {
	APIVersion  int `yaml:"apiVersion"`
	Datasources []struct {
		Name           string            `yaml:"name"`
		UID            string            `yaml:"uid"`
		Type           string            `yaml:"type"`
		IsDefault      bool              `yaml:"isDefault"`
		Editable       bool              `yaml:"editable"`
		JSONData       map[string]any    `yaml:"jsonData"`
		SecureJSONData map[string]string `yaml:"secureJsonData"`
	} `yaml:"datasources"`
}

type dashboardProvisioning struct {
	APIVersion int `yaml:"apiVersion"`
	Providers  []struct {
		Name                  string `yaml:"name"`
		OrgID                 int    `yaml:"orgId"`
		Folder                string `yaml:"folder"`
		FolderUID             string `yaml:"folderUid"`
		Type                  string `yaml:"type"`
		DisableDeletion       bool   `yaml:"disableDeletion"`
		AllowUIUpdates        bool   `yaml:"allowUiUpdates"`
		UpdateIntervalSeconds int    `yaml:"updateIntervalSeconds"`
		Options               struct {
			Path                      string `yaml:"path"`
			FoldersFromFilesStructure bool   `yaml:"foldersFromFilesStructure"`
		} `yaml:"options"`
	} `yaml:"providers"`
}

// containerPath maps a path inside the grafana container back to the
// repository through the service's bind mounts ("" when none covers it).
func containerPath(mounts []string, inContainer string) string {
	for _, m := range mounts {
		parts := strings.Split(m, ":")
		if len(parts) < 2 || !strings.HasPrefix(parts[0], ".") {
			continue
		}
		if rel, ok := strings.CutPrefix(inContainer, parts[1]); ok && (rel == "" || strings.HasPrefix(rel, "/")) {
			return filepath.Join(parts[0], filepath.FromSlash(rel))
		}
	}
	return ""
}

func TestGrafanaProvisioning(t *testing.T) {
	c := loadCompose(t)
	g := c.Services["grafana"]

	prov := containerPath(g.Volumes, "/etc/grafana/provisioning")
	if prov == "" {
		t.Fatalf("grafana mounts no provisioning directory on /etc/grafana/provisioning: %v", g.Volumes)
	}

	var ds datasourceProvisioning
	decodeStrict(t, filepath.Join(prov, "datasources", "clickhouse.yaml"), &ds)
	if ds.APIVersion != 1 || len(ds.Datasources) != 1 {
		t.Fatalf("datasources: %+v", ds)
	}
	src := ds.Datasources[0]
	ch := c.Services["clickhouse"]
	d := loadDashboard(t)
	var current string
	for _, v := range d.Templating.List {
		if v.Name == "datasource" {
			current, _ = v.Current["value"].(string)
		}
	}
	switch {
	case src.Type != pluginID:
		t.Errorf("data source type %q", src.Type)
	case src.UID == "" || src.UID != current:
		t.Errorf("data source uid %q; the dashboard's datasource variable defaults to %q", src.UID, current)
	case src.JSONData["host"] != "clickhouse" || src.JSONData["port"] != 9000 || src.JSONData["protocol"] != "native":
		t.Errorf("jsonData %v: want the compose service clickhouse, native port 9000", src.JSONData)
	case src.JSONData["defaultDatabase"] != ch.Environment["CLICKHOUSE_DB"]:
		t.Errorf("defaultDatabase %v, ClickHouse database %q", src.JSONData["defaultDatabase"], ch.Environment["CLICKHOUSE_DB"])
	case src.SecureJSONData["password"] != "$GRAFANA_CLICKHOUSE_PASSWORD" || g.Environment["GRAFANA_CLICKHOUSE_PASSWORD"] == "":
		t.Errorf("password %q: want $GRAFANA_CLICKHOUSE_PASSWORD from grafana's environment", src.SecureJSONData["password"])
	}
	// Grafana logs in as the read-only user that the ClickHouse init script creates.
	initdb := containerPath(ch.Volumes, "/docker-entrypoint-initdb.d")
	script, err := os.ReadFile(filepath.Join(initdb, "10-grafana-reader.sh"))
	if err != nil {
		t.Fatal(err)
	}
	user, _ := src.JSONData["username"].(string)
	if user == "" || !strings.Contains(string(script), "CREATE USER IF NOT EXISTS "+user+" ") ||
		!strings.Contains(string(script), "GRANT SELECT ON ${CLICKHOUSE_DB}.* TO "+user+";") {
		t.Errorf("initdb does not create the read-only user %q Grafana logs in as", user)
	}
	if ch.Environment["GRAFANA_CLICKHOUSE_PASSWORD"] == "" || ch.Environment["CLICKHOUSE_DEFAULT_ACCESS_MANAGEMENT"] != "1" {
		t.Error("clickhouse needs GRAFANA_CLICKHOUSE_PASSWORD and access management for the init script")
	}

	var dp dashboardProvisioning
	decodeStrict(t, filepath.Join(prov, "dashboards", "meetingd.yaml"), &dp)
	if dp.APIVersion != 1 || len(dp.Providers) != 1 {
		t.Fatalf("dashboard providers: %+v", dp)
	}
	p := dp.Providers[0]
	dir := containerPath(g.Volumes, p.Options.Path)
	if p.Type != "file" || p.Folder == "" || dir == "" {
		t.Fatalf("provider %+v: want a file provider into a folder, on a mounted directory", p)
	}
	if _, err := os.Stat(filepath.Join(dir, filepath.Base(dashboardFile))); err != nil {
		t.Errorf("provider path %s: %v", p.Options.Path, err)
	}
	home := g.Environment["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
	if f := containerPath(g.Volumes, home); f == "" || path.Base(home) != filepath.Base(dashboardFile) {
		t.Errorf("GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH %q is not the mounted dashboard", home)
	} else if _, err := os.Stat(f); err != nil {
		t.Error(err)
	}
	plugins := strings.Split(g.Environment["GF_PLUGINS_PREINSTALL_SYNC"], ",")
	if !slices.ContainsFunc(plugins, func(p string) bool {
		id, version, ok := strings.Cut(p, "@")
		return ok && id == pluginID && rePinnedTag.MatchString(version)
	}) {
		t.Errorf("GF_PLUGINS_PREINSTALL_SYNC %q: want %s@<pinned version>", g.Environment["GF_PLUGINS_PREINSTALL_SYNC"], pluginID)
	}
}

// TestPriceVariables: the cost panel's prices are text box variables that
// default to CometChat's published prices per participant-minute, and the
// ClickHouse tests run with those defaults.
func TestPriceVariables(t *testing.T) {
	vars := map[string]variable{}
	for _, v := range loadDashboard(t).Templating.List {
		vars[v.Name] = v
	}
	for name, want := range map[string]string{"audio_price_usd": "0.001", "video_price_usd": "0.003"} {
		v, ok := vars[name]
		if !ok || v.Type != "textbox" || v.Query != want || v.Current["value"] != want {
			t.Errorf("variable %s %+v: want a text box defaulting to %s", name, v, want)
		}
		if prices[name] != want {
			t.Errorf("the ClickHouse tests price %s at %q, the dashboard at %s", name, prices[name], want)
		}
	}
}
