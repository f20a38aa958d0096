package callsapi

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
)

// Secret is a credential: it prints, logs and marshals as "[redacted]".
// Reveal returns the value.
type Secret string

const redacted = "[redacted]"

func (Secret) String() string               { return redacted }
func (Secret) GoString() string             { return redacted }
func (Secret) LogValue() slog.Value         { return slog.StringValue(redacted) }
func (Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// Reveal returns the secret's value.
func (s Secret) Reveal() string { return string(s) }

// App is the Calls API access of one CometChat app.
type App struct {
	AppID, Region string
	APIKey        Secret
	// KeyFile is the file the key was read from ("" when given inline).
	KeyFile string
}

// ParseApps parses the MEETINGD_COMETCHAT_APPS setting: a comma list of
// appId:region:key entries, where key is the REST API key itself or @FILE,
// a file that holds it (surrounding white space is ignored), read with
// readFile. An empty spec configures no app. Every problem is reported at
// once; no error message contains a key.
//
//	MEETINGD_COMETCHAT_APPS=31780434a95d45:us:@/run/secrets/cometchat-key,2a0b9c:eu:0f3c…
func ParseApps(spec string, readFile func(string) ([]byte, error)) ([]App, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, nil
	}
	var apps []App
	var errs []error
	seen := map[string]bool{}
	for i, entry := range strings.Split(spec, ",") {
		entry = strings.TrimSpace(entry)
		parts := strings.SplitN(entry, ":", 3)
		if len(parts) != 3 {
			// Never echo the entry: it may hold a key.
			errs = append(errs, fmt.Errorf("entry %d: want appId:region:key or appId:region:@keyfile", i+1))
			continue
		}
		app := App{AppID: strings.TrimSpace(parts[0]), Region: strings.ToLower(strings.TrimSpace(parts[1]))}
		key := strings.TrimSpace(parts[2])
		if file, ok := strings.CutPrefix(key, "@"); ok {
			app.KeyFile = file
			b, err := readFile(file)
			if err != nil {
				errs = append(errs, fmt.Errorf("app %q: read key file: %w", app.AppID, err))
				continue
			}
			key = strings.TrimSpace(string(b))
		}
		app.APIKey = Secret(key)
		if err := (Config{AppID: app.AppID, Region: app.Region, APIKey: key}).Validate(); err != nil {
			errs = append(errs, fmt.Errorf("entry %d: %w", i+1, err))
			continue
		}
		if seen[app.AppID] {
			errs = append(errs, fmt.Errorf("app %q: configured twice", app.AppID))
			continue
		}
		seen[app.AppID] = true
		apps = append(apps, app)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return apps, nil
}
