package deploy_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const notifyDashboardFile = "grafana/dashboards/meetingd-notifications.json"

// TestNotifyDashboard checks the notifications dashboard: Prometheus
// panels on the dashboard's data source variable, and queries that read
// only metrics package notify registers, covering attempts, failures and
// the queue's age.
func TestNotifyDashboard(t *testing.T) {
	b, err := os.ReadFile(notifyDashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		UID        string `json:"uid"`
		Title      string `json:"title"`
		Templating struct {
			List []struct{ Name, Type, Query string } `json:"list"`
		} `json:"templating"`
		Panels []struct {
			ID         int            `json:"id"`
			Title      string         `json:"title"`
			GridPos    map[string]int `json:"gridPos"`
			Datasource datasourceRef  `json:"datasource"`
			Targets    []struct {
				RefID      string        `json:"refId"`
				Expr       string        `json:"expr"`
				Datasource datasourceRef `json:"datasource"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", notifyDashboardFile, err)
	}
	if d.UID == "" || d.UID == loadDashboard(t).UID || d.Title == "" {
		t.Fatalf("uid %q, title %q: want a uid of its own", d.UID, d.Title)
	}
	if len(d.Templating.List) != 1 || d.Templating.List[0].Name != "prometheus" || d.Templating.List[0].Type != "datasource" || d.Templating.List[0].Query != "prometheus" {
		t.Fatalf("templating %+v: want one Prometheus data source variable", d.Templating.List)
	}
	registered := notifyMetricNames(t)
	used := map[string]bool{}
	metric := regexp.MustCompile(`meetingd_notify_[a-z_]+`)
	ids := map[int]bool{}
	for _, p := range d.Panels {
		if ids[p.ID] || p.Title == "" || len(p.GridPos) != 4 {
			t.Errorf("panel %d %q: a unique id, a title and a gridPos", p.ID, p.Title)
		}
		ids[p.ID] = true
		want := datasourceRef{Type: "prometheus", UID: "${prometheus}"}
		if p.Datasource != want || len(p.Targets) == 0 {
			t.Errorf("panel %q: datasource %+v, %d targets", p.Title, p.Datasource, len(p.Targets))
		}
		for _, tg := range p.Targets {
			if tg.Datasource != want || tg.RefID == "" || tg.Expr == "" {
				t.Errorf("panel %q target %q: datasource %+v, expr %q", p.Title, tg.RefID, tg.Datasource, tg.Expr)
			}
			for _, m := range metric.FindAllString(tg.Expr, -1) {
				base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(m, "_bucket"), "_sum"), "_count")
				if !slices.Contains(registered, base) {
					t.Errorf("panel %q reads %s, which package notify does not register (%v)", p.Title, m, registered)
				}
				used[base] = true
			}
		}
	}
	for _, m := range []string{"meetingd_notify_attempts_total", "meetingd_notify_dead_letters_total", "meetingd_notify_queue_age_seconds"} {
		if !used[m] {
			t.Errorf("no panel shows %s", m)
		}
	}
}

// notifyMetricNames lists the metric names notify/metrics.go registers.
func notifyMetricNames(t *testing.T) []string {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("..", "notify", "metrics.go"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range regexp.MustCompile(`Name:\s+"(meetingd_notify_[a-z_]+)"`).FindAllSubmatch(src, -1) {
		names = append(names, string(m[1]))
	}
	if len(names) < 5 {
		t.Fatalf("found %d metric names in notify/metrics.go", len(names))
	}
	return names
}
