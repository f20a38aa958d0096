package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/basicauth"
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
	asked := c.Query("app_id")
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

// webhookAuth checks CometChat's HTTP Basic credentials in constant time
// (digests of equal length, both compared whatever the first says).
func webhookAuth(user, password string, onFail func(c *fiber.Ctx)) fiber.Handler {
	wantUser, wantPass := sha256.Sum256([]byte(user)), sha256.Sum256([]byte(password))
	return basicauth.New(basicauth.Config{
		Authorizer: func(u, p string) bool {
			gotUser, gotPass := sha256.Sum256([]byte(u)), sha256.Sum256([]byte(p))
			okUser := subtle.ConstantTimeCompare(gotUser[:], wantUser[:])
			okPass := subtle.ConstantTimeCompare(gotPass[:], wantPass[:])
			return okUser&okPass == 1
		},
		Unauthorized: func(c *fiber.Ctx) error {
			onFail(c)
			c.Set(fiber.HeaderWWWAuthenticate, `Basic realm="meetingd"`)
			return httpError(fiber.StatusUnauthorized, "missing or wrong webhook credentials")
		},
	})
}
