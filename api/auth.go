package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// AllApps is the app scope of a token that may read every app.
const AllApps = "*"

// Tokens maps bearer tokens to the app they may read.
type Tokens struct {
	entries []tokenEntry
}

type tokenEntry struct {
	digest [32]byte
	app    string
}

// ParseTokens parses MEETINGD_API_TOKENS: a comma list of token=appId (or
// token=* for every app).
func ParseTokens(spec string) (Tokens, error) {
	var t Tokens
	var errs []error
	for i, item := range strings.Split(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		tok, app, ok := strings.Cut(item, "=")
		tok, app = strings.TrimSpace(tok), strings.TrimSpace(app)
		switch {
		case !ok || tok == "" || app == "":
			errs = append(errs, fmt.Errorf("token %d: want token=appId or token=*", i+1))
			continue
		case len(tok) < 16:
			errs = append(errs, fmt.Errorf("token %d (for app %s): shorter than 16 characters", i+1, app))
			continue
		}
		t.entries = append(t.entries, tokenEntry{digest: sha256.Sum256([]byte(tok)), app: app})
	}
	return t, errors.Join(errs...)
}

// Len is the number of tokens.
func (t Tokens) Len() int { return len(t.entries) }

// lookup returns the app scope of token, comparing every entry in constant time.
func (t Tokens) lookup(token string) (string, bool) {
	d := sha256.Sum256([]byte(token))
	app, found := "", false
	for _, e := range t.entries {
		if subtle.ConstantTimeCompare(d[:], e.digest[:]) == 1 && !found {
			app, found = e.app, true
		}
	}
	return app, found
}

const localScope = "meetingd.scope"

// bearer authenticates /v1 requests and records the token's app scope.
func bearer(tokens Tokens) fiber.Handler {
	return func(c *fiber.Ctx) error {
		h := c.Get(fiber.HeaderAuthorization)
		scheme, tok, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
			return httpError(fiber.StatusUnauthorized, "missing bearer token")
		}
		app, found := tokens.lookup(strings.TrimSpace(tok))
		if !found {
			return httpError(fiber.StatusUnauthorized, "invalid bearer token")
		}
		c.Locals(localScope, app)
		return c.Next()
	}
}

// appScope returns the app the request reads. A token of one app reads that
// app (an app_id naming another app is a 403); a * token reads the app_id it
// names, and "" (every app) when it names none and required is false.
func appScope(c *fiber.Ctx, required bool) (string, error) {
	scope, _ := c.Locals(localScope).(string)
	asked := query(c, "app_id")
	if scope != AllApps {
		if asked != "" && asked != scope {
			return "", httpError(fiber.StatusForbidden, "token is not valid for app %q", asked)
		}
		return scope, nil
	}
	if asked == "" && required {
		return "", badParam("app_id", "required with a token for every app")
	}
	return parseID("app_id", asked, true, true)
}

// WebhookCredentials are the HTTP Basic credentials CometChat's webhooks
// may come with, each opening one app, or every app (the single
// MEETINGD_WEBHOOK_USER/PASSWORD pair).
type WebhookCredentials struct {
	entries []credentialEntry
}

type credentialEntry struct {
	user, password [32]byte // SHA-256 digests
	app            string   // "" : every app
}

// SingleWebhookCredential is one user and password that open every app.
func SingleWebhookCredential(user, password string) WebhookCredentials {
	return WebhookCredentials{entries: []credentialEntry{{user: sha256.Sum256([]byte(user)), password: sha256.Sum256([]byte(password))}}}
}

// ParseWebhookCredentials parses MEETINGD_WEBHOOK_CREDENTIALS: a comma list
// of appId=user:password (the app id up to the first '=', the user up to the
// next ':', the password the rest; spaces around an item are ignored). An app
// may be listed more than once (a credential being rotated); the same user
// and password may not open two apps. Errors name the item by its position
// and app, never its user or password.
func ParseWebhookCredentials(spec string) (WebhookCredentials, error) {
	var w WebhookCredentials
	var errs []error
	seen := map[[64]byte]string{}
	for i, item := range strings.Split(spec, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		app, cred, ok := strings.Cut(item, "=")
		app = strings.TrimSpace(app)
		user, password, ok2 := strings.Cut(cred, ":")
		switch {
		case !ok || app == "":
			errs = append(errs, fmt.Errorf("credential %d: want appId=user:password", i+1))
			continue
		case !ok2 || user == "" || password == "":
			errs = append(errs, fmt.Errorf("credential %d (for app %s): want appId=user:password, both non-empty", i+1, app))
			continue
		}
		e := credentialEntry{user: sha256.Sum256([]byte(user)), password: sha256.Sum256([]byte(password)), app: app}
		key := [64]byte(append(e.user[:], e.password[:]...))
		if other, dup := seen[key]; dup && other != app {
			errs = append(errs, fmt.Errorf("credential %d (for app %s): the same user and password as app %s's; each app needs its own", i+1, app, other))
			continue
		}
		seen[key] = app
		w.entries = append(w.entries, e)
	}
	return w, errors.Join(errs...)
}

// Len is the number of credentials.
func (w WebhookCredentials) Len() int { return len(w.entries) }

// lookup returns the app that user and password open ("" : every app),
// comparing every entry's digests in constant time, whatever the others say.
func (w WebhookCredentials) lookup(user, password string) (string, bool) {
	gotUser, gotPass := sha256.Sum256([]byte(user)), sha256.Sum256([]byte(password))
	app, found := "", false
	for _, e := range w.entries {
		okUser := subtle.ConstantTimeCompare(gotUser[:], e.user[:])
		okPass := subtle.ConstantTimeCompare(gotPass[:], e.password[:])
		if okUser&okPass == 1 && !found {
			app, found = e.app, true
		}
	}
	return app, found
}

const localWebhookApp = "meetingd.webhookApp"

// webhookAuth checks CometChat's HTTP Basic credentials and records the app
// they open for the handler ("" : every app).
func webhookAuth(creds WebhookCredentials, onFail func(c *fiber.Ctx)) fiber.Handler {
	return func(c *fiber.Ctx) error {
		user, password, ok := basicCredentials(c.Get(fiber.HeaderAuthorization))
		app, found := "", false
		if ok {
			app, found = creds.lookup(user, password)
		}
		if !found {
			onFail(c)
			c.Set(fiber.HeaderWWWAuthenticate, `Basic realm="meetingd"`)
			return httpError(fiber.StatusUnauthorized, "missing or wrong webhook credentials")
		}
		c.Locals(localWebhookApp, app)
		return c.Next()
	}
}

// basicCredentials reads an Authorization header of the Basic scheme.
func basicCredentials(header string) (user, password string, ok bool) {
	scheme, enc, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Basic") {
		return "", "", false
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(enc))
	if err != nil {
		return "", "", false
	}
	return strings.Cut(string(raw), ":")
}
