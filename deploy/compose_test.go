package deploy_test

import (
	"bufio"
	"bytes"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v4"
)

// composeFile is the part of the Compose specification that compose.yaml
// uses. It is decoded with KnownFields, so a misspelt key fails the test.
type composeFile struct {
	Name     string              `yaml:"name"`
	Services map[string]service  `yaml:"services"`
	Volumes  map[string]struct{} `yaml:"volumes"`
}

type service struct {
	Image           string                `yaml:"image"`
	Build           *build                `yaml:"build"`
	Environment     map[string]string     `yaml:"environment"`
	Ports           []string              `yaml:"ports"`
	Expose          []string              `yaml:"expose"`
	Volumes         []string              `yaml:"volumes"`
	DependsOn       map[string]dependency `yaml:"depends_on"`
	Healthcheck     *healthcheck          `yaml:"healthcheck"`
	Ulimits         map[string]ulimit     `yaml:"ulimits"`
	ReadOnly        bool                  `yaml:"read_only"`
	Tmpfs           []string              `yaml:"tmpfs"`
	CapDrop         []string              `yaml:"cap_drop"`
	SecurityOpt     []string              `yaml:"security_opt"`
	StopGracePeriod string                `yaml:"stop_grace_period"`
	Restart         string                `yaml:"restart"`
}

type build struct {
	Context    string `yaml:"context"`
	Dockerfile string `yaml:"dockerfile"`
}

type dependency struct {
	Condition string `yaml:"condition"`
}

type healthcheck struct {
	Test        []string `yaml:"test"`
	Interval    string   `yaml:"interval"`
	Timeout     string   `yaml:"timeout"`
	Retries     int      `yaml:"retries"`
	StartPeriod string   `yaml:"start_period"`
}

type ulimit struct {
	Soft int `yaml:"soft"`
	Hard int `yaml:"hard"`
}

func decodeStrict(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func loadCompose(t *testing.T) composeFile {
	t.Helper()
	var c composeFile
	decodeStrict(t, "compose.yaml", &c)
	return c
}

var (
	// rePinnedTag: a release tag such as 26.0.3 or 2.11.4-alpine, never latest.
	rePinnedTag = regexp.MustCompile(`^[0-9]+(\.[0-9]+)+([-.][A-Za-z0-9.]+)?$`)
	// reInterpolation: ${VAR}, ${VAR:-default} or ${VAR:?message}.
	reInterpolation = regexp.MustCompile(`\$\{([A-Z0-9_]+)(:[-?][^}]*)?\}`)
	reRequiredVar   = regexp.MustCompile(`^\$\{([A-Z0-9_]+):\?[^}]+\}$`)
	reSecretKey     = regexp.MustCompile(`(PASSWORD|TOKENS?|SECRET)$`)
)

// interpolate replaces every ${VAR…} by the value vars gives VAR.
func interpolate(s string, vars map[string]string) string {
	return reInterpolation.ReplaceAllStringFunc(s, func(m string) string {
		return vars[reInterpolation.FindStringSubmatch(m)[1]]
	})
}

func TestComposeServices(t *testing.T) {
	c := loadCompose(t)
	var names []string
	for name := range c.Services {
		names = append(names, name)
	}
	slices.Sort(names)
	if want := []string{"caddy", "clickhouse", "grafana", "kurrentdb", "meetingd"}; !slices.Equal(names, want) {
		t.Fatalf("services %v, want %v", names, want)
	}
	wantImage := map[string]string{
		"kurrentdb":  "docker.kurrent.io/kurrent-latest/kurrentdb",
		"clickhouse": "clickhouse/clickhouse-server",
		"caddy":      "caddy",
		"grafana":    "grafana/grafana",
	}
	for name, repo := range wantImage {
		t.Run(name, func(t *testing.T) {
			s := c.Services[name]
			gotRepo, tag := s.Image, ""
			if i := strings.LastIndex(s.Image, ":"); i >= 0 {
				gotRepo, tag = s.Image[:i], s.Image[i+1:]
			}
			if gotRepo != repo {
				t.Errorf("image %q: want the official image %s", s.Image, repo)
			}
			if !rePinnedTag.MatchString(tag) {
				t.Errorf("image %q: tag %q is not a pinned release", s.Image, tag)
			}
			if s.Build != nil {
				t.Errorf("%s is built locally; want the official image", name)
			}
			if s.Healthcheck == nil || len(s.Healthcheck.Test) < 2 || s.Healthcheck.Test[0] != "CMD" {
				t.Errorf("healthcheck %+v: want an exec-form test [\"CMD\", …]", s.Healthcheck)
			} else if s.Healthcheck.Interval == "" || s.Healthcheck.Retries == 0 {
				t.Errorf("healthcheck %+v: want interval and retries", s.Healthcheck)
			}
		})
	}
}

func TestComposeMeetingd(t *testing.T) {
	c := loadCompose(t)
	m := c.Services["meetingd"]
	if m.Build == nil || m.Build.Context != ".." || m.Build.Dockerfile != "Dockerfile" {
		t.Fatalf("build %+v: want the repository's Dockerfile (context .., dockerfile Dockerfile)", m.Build)
	}
	if _, err := os.Stat(filepath.Join(m.Build.Context, m.Build.Dockerfile)); err != nil {
		t.Fatal(err)
	}
	if m.Healthcheck != nil {
		t.Errorf("healthcheck %+v: the distroless image has no shell or HTTP client to run it", m.Healthcheck)
	}
	if len(m.Ports) != 0 {
		t.Errorf("ports %v: meetingd is reached through Caddy only (and must scale without port clashes)", m.Ports)
	}
	if !slices.Contains(m.Expose, "8080") {
		t.Errorf("expose %v: want 8080", m.Expose)
	}
	if !m.ReadOnly || !slices.Contains(m.CapDrop, "ALL") {
		t.Errorf("read_only %v, cap_drop %v: want a read-only root and no capabilities", m.ReadOnly, m.CapDrop)
	}
	if m.StopGracePeriod == "" {
		t.Error("no stop_grace_period: serve needs time to drain on SIGTERM")
	}
	for _, v := range m.Volumes {
		if strings.HasSuffix(v, ":/data") || strings.Contains(v, ":/data:") {
			t.Errorf("volume %q on /data: replicas must not share a data directory (each gets the image's anonymous volume)", v)
		}
	}

	known := knownSettings(t)
	for k := range m.Environment {
		if strings.HasPrefix(k, "MEETINGD_") && !known[k] {
			t.Errorf("environment %s: not a setting of meetingd serve (cmd/meetingd)", k)
		}
	}
	env := m.Environment
	if env["MEETINGD_ADDR"] != "0.0.0.0:8080" {
		t.Errorf("MEETINGD_ADDR %q: want 0.0.0.0:8080", env["MEETINGD_ADDR"])
	}

	es, err := url.Parse(env["MEETINGD_EVENTSTORE"])
	if err != nil {
		t.Fatal(err)
	}
	if es.Scheme != "kurrentdb" || es.Host != "kurrentdb:2113" || es.Query().Get("tls") != "false" {
		t.Errorf("MEETINGD_EVENTSTORE %q: want kurrentdb://kurrentdb:2113?tls=false (the insecure compose node)", es)
	}

	ch := c.Services["clickhouse"].Environment
	dsn, err := url.Parse(interpolate(env["MEETINGD_CLICKHOUSE_DSN"], map[string]string{"CLICKHOUSE_PASSWORD": "pw"}))
	if err != nil {
		t.Fatal(err)
	}
	pw, _ := dsn.User.Password()
	if dsn.Scheme != "clickhouse" || dsn.Host != "clickhouse:9000" || dsn.Path != "/"+ch["CLICKHOUSE_DB"] ||
		dsn.User.Username() != ch["CLICKHOUSE_USER"] || pw != "pw" {
		t.Errorf("MEETINGD_CLICKHOUSE_DSN %q: want clickhouse://$CLICKHOUSE_USER:${CLICKHOUSE_PASSWORD}@clickhouse:9000/$CLICKHOUSE_DB", env["MEETINGD_CLICKHOUSE_DSN"])
	}
	for _, dep := range []string{"kurrentdb", "clickhouse"} {
		if m.DependsOn[dep].Condition != "service_healthy" {
			t.Errorf("depends_on %s: %+v, want condition service_healthy", dep, m.DependsOn[dep])
		}
	}
}

// knownSettings returns the MEETINGD_* variables that cmd/meetingd reads.
func knownSettings(t *testing.T) map[string]bool {
	t.Helper()
	files, err := filepath.Glob("../cmd/meetingd/*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("cmd/meetingd sources: %v", err)
	}
	re := regexp.MustCompile(`"(MEETINGD_[A-Z0-9_]+)"`)
	known := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllSubmatch(b, -1) {
			known[string(m[1])] = true
		}
	}
	if !known["MEETINGD_ADDR"] {
		t.Fatal("found no MEETINGD_ settings in cmd/meetingd")
	}
	return known
}

func TestComposeDependencies(t *testing.T) {
	c := loadCompose(t)
	conditions := []string{"service_started", "service_healthy", "service_completed_successfully"}
	for name, s := range c.Services {
		for dep, d := range s.DependsOn {
			target, ok := c.Services[dep]
			switch {
			case !ok:
				t.Errorf("%s depends on %s, which is not a service", name, dep)
			case !slices.Contains(conditions, d.Condition):
				t.Errorf("%s depends on %s with condition %q", name, dep, d.Condition)
			case d.Condition == "service_healthy" && target.Healthcheck == nil:
				t.Errorf("%s waits for %s to be healthy, which has no healthcheck", name, dep)
			}
		}
	}
	if c.Services["grafana"].DependsOn["clickhouse"].Condition != "service_healthy" {
		t.Error("grafana must wait for a healthy clickhouse")
	}
	if _, ok := c.Services["caddy"].DependsOn["meetingd"]; !ok {
		t.Error("caddy must depend on meetingd")
	}
}

func TestComposePortsAndVolumes(t *testing.T) {
	c := loadCompose(t)
	for name, s := range c.Services {
		for _, p := range s.Ports {
			public := name == "caddy" && slices.Contains([]string{"80:80", "443:443", "443:443/udp"}, p)
			if !public && !strings.HasPrefix(p, "127.0.0.1:") {
				t.Errorf("%s publishes %q on every interface; only Caddy's 80/443 are public, the rest binds 127.0.0.1", name, p)
			}
		}
		for _, v := range s.Volumes {
			src, _, ok := strings.Cut(v, ":")
			if !ok {
				t.Errorf("%s: volume %q has no target", name, v)
				continue
			}
			if strings.HasPrefix(src, ".") {
				if _, err := os.Stat(src); err != nil {
					t.Errorf("%s: bind mount %q: %v", name, v, err)
				}
			} else if _, ok := c.Volumes[src]; !ok {
				t.Errorf("%s: named volume %q is not declared under volumes", name, src)
			}
		}
	}
	if len(c.Services["caddy"].Ports) == 0 {
		t.Error("caddy publishes no port")
	}
}

// TestComposeSecrets checks that no credential is written in compose.yaml:
// each one is a required variable (${VAR:?…}) that deploy/.env.example lists
// with a placeholder, and deploy/.env itself is git-ignored.
func TestComposeSecrets(t *testing.T) {
	c := loadCompose(t)
	example := readEnvFile(t, ".env.example")
	b, err := os.ReadFile("compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range reInterpolation.FindAllStringSubmatch(string(b), -1) {
		if strings.HasPrefix(m[2], ":?") {
			if _, ok := example[m[1]]; !ok {
				t.Errorf("compose.yaml requires %s; .env.example does not list it", m[1])
			}
		}
	}
	for name, s := range c.Services {
		for k, v := range s.Environment {
			if reSecretKey.MatchString(k) && !reRequiredVar.MatchString(v) {
				t.Errorf("%s: %s=%q: a credential must come from a required variable ${VAR:?…}", name, k, v)
			}
		}
	}
	for k, v := range example {
		if reSecretKey.MatchString(k) && v != "change-me" && !strings.HasPrefix(v, "change-me") {
			t.Errorf(".env.example: %s=%q: want a change-me placeholder, not a value", k, v)
		}
	}
	ignore, err := os.ReadFile(".gitignore")
	if err != nil || !slices.Contains(strings.Fields(string(ignore)), ".env") {
		t.Errorf("deploy/.gitignore must list .env (%v)", err)
	}
}

// readEnvFile reads KEY=value lines, skipping comments and blank lines.
func readEnvFile(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	vars := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s: %q is not KEY=value", path, line)
		}
		vars[k] = v
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return vars
}

func TestCaddyfile(t *testing.T) {
	c := loadCompose(t)
	b, err := os.ReadFile("Caddyfile")
	if err != nil {
		t.Fatal(err)
	}
	caddy := string(b)
	_, port, _ := strings.Cut(c.Services["meetingd"].Environment["MEETINGD_ADDR"], ":")
	for _, want := range []string{
		"{$MEETINGD_DOMAIN:localhost} {", // the site: TLS for the public name
		"reverse_proxy {",
		"dynamic a meetingd " + port, // every replica of the compose service
		"@metrics path /metrics",     // not public
	} {
		if !strings.Contains(caddy, want) {
			t.Errorf("Caddyfile lacks %q", want)
		}
	}
	if _, ok := c.Services["caddy"].Environment["MEETINGD_DOMAIN"]; !ok {
		t.Error("compose passes no MEETINGD_DOMAIN to caddy")
	}
	if depth := strings.Count(caddy, "{") - strings.Count(caddy, "}"); depth != 0 {
		t.Errorf("Caddyfile braces unbalanced by %d", depth)
	}
}

// dockerfile returns the Dockerfile's instructions, continuation lines joined
// and comments dropped.
func dockerfile(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(string(b), "\n") {
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") || (trimmed == "" && cur.Len() == 0) {
			continue
		}
		if strings.HasSuffix(trimmed, "\\") {
			cur.WriteString(strings.TrimSuffix(trimmed, "\\") + " ")
			continue
		}
		cur.WriteString(trimmed)
		out = append(out, cur.String())
		cur.Reset()
	}
	return out
}

func TestDockerfile(t *testing.T) {
	ins := dockerfile(t)
	var froms []string
	var finalStage []string
	for _, in := range ins {
		if strings.HasPrefix(in, "FROM ") {
			froms = append(froms, in)
			finalStage = nil
		}
		finalStage = append(finalStage, in)
	}
	if len(froms) < 2 {
		t.Fatalf("stages %v: want a build stage and a runtime stage", froms)
	}
	if last := froms[len(froms)-1]; !strings.Contains(last, "gcr.io/distroless/static") || !strings.HasSuffix(last, ":nonroot") {
		t.Errorf("final stage %q: want distroless static, nonroot", last)
	}
	all := strings.Join(ins, "\n")
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", `-ldflags="-s -w"`, "./cmd/meetingd"} {
		if !strings.Contains(all, want) {
			t.Errorf("Dockerfile does not build with %s", want)
		}
	}
	final := strings.Join(finalStage, "\n")
	for _, want := range []string{"USER 65532:65532", "EXPOSE 8080", "MEETINGD_ADDR=0.0.0.0:8080", `VOLUME ["/data"]`, "--chown=65532:65532"} {
		if !strings.Contains(final, want) {
			t.Errorf("final stage lacks %s", want)
		}
	}
	if strings.Contains(all, "HEALTHCHECK") {
		t.Error("HEALTHCHECK in an image without a shell or HTTP client")
	}
	// The builder's Go is the toolchain go.mod names (else its go line):
	// the one the Makefile and CI build and scan with.
	gomod, err := os.ReadFile("../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	goVersion := regexp.MustCompile(`(?m)^toolchain go([0-9.]+)$`).FindSubmatch(gomod)
	if goVersion == nil {
		goVersion = regexp.MustCompile(`(?m)^go ([0-9.]+)$`).FindSubmatch(gomod)
	}
	if goVersion == nil || !strings.Contains(all, "ARG GO_VERSION="+string(goVersion[1])) {
		t.Errorf("Dockerfile's GO_VERSION differs from go.mod's toolchain %s", goVersion[1])
	}
	ignore, err := os.ReadFile("../.dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Fields(string(ignore))
	for _, want := range []string{".git", "**/.env", "deploy/"} {
		if !slices.Contains(lines, want) {
			t.Errorf(".dockerignore lacks %s", want)
		}
	}
}
