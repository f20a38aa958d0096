package esdb

import (
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	kdb "github.com/EventStore/EventStore-Client-Go/v4/esdb"
)

// Config configures a Store. Only ConnectionString is required; every other
// field has a default (see setDefaults).
type Config struct {
	// ConnectionString locates the cluster, as the EventStoreDB clients spell it:
	//
	//	esdb://[user:password@]host:port[?settings]
	//	esdb+discover://[user:password@]host1:port,host2:port,…[?settings]
	//
	// kurrentdb://, kurrent:// and kdb:// (each also with +discover) are accepted
	// as synonyms of esdb://. Settings are the client's: tls (default true),
	// tlsCAFile, tlsVerifyCert, userCertFile, userKeyFile, nodePreference,
	// keepAliveInterval, keepAliveTimeout, defaultDeadline, maxDiscoverAttempts,
	// discoveryInterval, gossipTimeout. Credentials are sent only over TLS.
	ConnectionString string

	// Username and Password, when Username is set, replace the credentials of
	// the connection string (HTTP Basic on every call; TLS only).
	Username string
	Password string

	// TLSCAFile, when set, is a PEM file of the root certificates that sign the
	// server's certificate (replaces the connection string's tlsCAFile).
	TLSCAFile string
	// TLSCertFile and TLSKeyFile, both or neither, are a PEM client
	// certificate and its key for X.509 user authentication.
	TLSCertFile string
	TLSKeyFile  string
	// TLSSkipVerify disables server certificate verification (development only).
	TLSSkipVerify bool

	// RequestTimeout bounds one append, one read page and one subscription
	// handshake when ctx has no earlier deadline. Default 10s.
	RequestTimeout time.Duration
	// PingTimeout bounds Ping when ctx has no earlier deadline. Default 2s.
	PingTimeout time.Duration
	// AppendAttempts bounds how many times Append sends its events when the
	// stream moves under it (WrongExpectedVersion), re-reading the new tail
	// before each retry (after a random pause of up to 64 ms). Default 16.
	AppendAttempts int
	// ReadPageSize is the number of events ReadStream fetches per request.
	// Default 256.
	ReadPageSize int
	// StreamCacheSize is the number of streams whose known prefix (event IDs,
	// revisions, positions) Append remembers, least recently used first out.
	// Default 4096; a negative value disables the cache.
	StreamCacheSize int

	// FilterWindow is the server-side filter's max search window: the server
	// sends a checkpoint at least every FilterWindow*CheckpointMultiplier
	// events it scans. Defaults 32 and 1.
	FilterWindow         int
	CheckpointMultiplier int

	// ResubscribeMinBackoff and ResubscribeMaxBackoff bound the exponential
	// backoff between resubscriptions after SubscribeAll's subscription drops.
	// Defaults 100ms and 5s.
	ResubscribeMinBackoff time.Duration
	ResubscribeMaxBackoff time.Duration

	// CloseTimeout bounds how long Close waits for calls in flight. Default 10s.
	CloseTimeout time.Duration

	// MaxAppendBytes is the cluster's MaxAppendSize: the most bytes one
	// append may carry (eventstore.AppendSize: data, metadata and twice the
	// type of each event). Append refuses a larger one with
	// eventstore.ErrInvalidEvent before sending it, and Limits reports it so
	// that callers can check first. Default 1,048,576, the server's default;
	// set it to the server's MaxAppendSize when that is configured otherwise.
	MaxAppendBytes int
}

// DefaultMaxAppendBytes is KurrentDB's default MaxAppendSize.
const DefaultMaxAppendBytes = 1 << 20

func (c *Config) setDefaults() {
	if c.RequestTimeout == 0 {
		c.RequestTimeout = 10 * time.Second
	}
	if c.PingTimeout == 0 {
		c.PingTimeout = 2 * time.Second
	}
	if c.AppendAttempts == 0 {
		c.AppendAttempts = 16
	}
	if c.ReadPageSize == 0 {
		c.ReadPageSize = 256
	}
	if c.StreamCacheSize == 0 {
		c.StreamCacheSize = 4096
	}
	if c.FilterWindow == 0 {
		c.FilterWindow = 32
	}
	if c.CheckpointMultiplier == 0 {
		c.CheckpointMultiplier = 1
	}
	if c.ResubscribeMinBackoff == 0 {
		c.ResubscribeMinBackoff = 100 * time.Millisecond
	}
	if c.ResubscribeMaxBackoff == 0 {
		c.ResubscribeMaxBackoff = 5 * time.Second
	}
	if c.CloseTimeout == 0 {
		c.CloseTimeout = 10 * time.Second
	}
	if c.MaxAppendBytes == 0 {
		c.MaxAppendBytes = DefaultMaxAppendBytes
	}
}

// Validate reports every problem of c at once.
func (c *Config) Validate() error {
	var errs []error
	if c.ConnectionString == "" {
		errs = append(errs, errors.New("esdb: connection string is empty"))
	} else if _, err := parseConnectionString(c.ConnectionString); err != nil {
		errs = append(errs, err)
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		errs = append(errs, errors.New("esdb: TLSCertFile and TLSKeyFile go together"))
	}
	if c.Password != "" && c.Username == "" {
		errs = append(errs, errors.New("esdb: Password without Username"))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"RequestTimeout", c.RequestTimeout}, {"PingTimeout", c.PingTimeout},
		{"ResubscribeMinBackoff", c.ResubscribeMinBackoff}, {"ResubscribeMaxBackoff", c.ResubscribeMaxBackoff},
		{"CloseTimeout", c.CloseTimeout},
	} {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("esdb: %s must not be negative (%s)", d.name, d.v))
		}
	}
	if c.ResubscribeMaxBackoff > 0 && c.ResubscribeMinBackoff > c.ResubscribeMaxBackoff {
		errs = append(errs, fmt.Errorf("esdb: ResubscribeMinBackoff %s exceeds ResubscribeMaxBackoff %s",
			c.ResubscribeMinBackoff, c.ResubscribeMaxBackoff))
	}
	for _, n := range []struct {
		name string
		v    int
	}{
		{"AppendAttempts", c.AppendAttempts}, {"ReadPageSize", c.ReadPageSize},
		{"FilterWindow", c.FilterWindow}, {"CheckpointMultiplier", c.CheckpointMultiplier},
		{"MaxAppendBytes", c.MaxAppendBytes},
	} {
		if n.v < 0 {
			errs = append(errs, fmt.Errorf("esdb: %s must not be negative (%d)", n.name, n.v))
		}
	}
	return errors.Join(errs...)
}

// schemes maps every accepted connection-string scheme to the one the
// EventStoreDB client parses.
var schemes = map[string]string{
	"esdb": "esdb", "esdb+discover": "esdb+discover",
	"kurrentdb": "esdb", "kurrentdb+discover": "esdb+discover",
	"kurrent": "esdb", "kurrent+discover": "esdb+discover",
	"kdb": "esdb", "kdb+discover": "esdb+discover",
}

// IsConnectionString reports whether s names an EventStoreDB/KurrentDB
// cluster (by its scheme), so that main can choose this store.
func IsConnectionString(s string) bool {
	scheme, _, ok := strings.Cut(s, "://")
	if !ok {
		return false
	}
	_, ok = schemes[strings.ToLower(scheme)]
	return ok
}

// parseConnectionString parses s with the client's parser after mapping the
// KurrentDB schemes onto esdb://.
func parseConnectionString(s string) (*kdb.Configuration, error) {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return nil, fmt.Errorf("esdb: connection string has no scheme (want esdb:// or kurrentdb://)")
	}
	mapped, ok := schemes[strings.ToLower(scheme)]
	if !ok {
		return nil, fmt.Errorf("esdb: unknown connection string scheme %q (want esdb:// or kurrentdb://)", scheme)
	}
	conf, err := kdb.ParseConnectionString(mapped + "://" + rest)
	if err != nil {
		// The client's messages may quote the string, credentials included.
		return nil, fmt.Errorf("esdb: invalid connection string for %s://%s: %s", scheme, redactedHosts(rest), redact(err.Error(), s))
	}
	return conf, nil
}

// clientConfig builds the client's configuration from c.
func (c *Config) clientConfig(log *slog.Logger) (*kdb.Configuration, error) {
	conf, err := parseConnectionString(c.ConnectionString)
	if err != nil {
		return nil, err
	}
	if c.Username != "" {
		conf.Username, conf.Password = c.Username, c.Password
	}
	if c.TLSCAFile != "" {
		pem, err := os.ReadFile(c.TLSCAFile)
		if err != nil {
			return nil, fmt.Errorf("esdb: read TLS CA file: %w", err)
		}
		pool, err := certPool(pem)
		if err != nil {
			return nil, fmt.Errorf("esdb: TLS CA file %s: %w", c.TLSCAFile, err)
		}
		conf.RootCAs = pool
	}
	if c.TLSCertFile != "" {
		conf.UserCertFile, conf.UserKeyFile = c.TLSCertFile, c.TLSKeyFile
	}
	if c.TLSSkipVerify {
		conf.SkipCertificateVerification = true
	}
	if conf.DisableTLS && conf.Username != "" {
		log.Warn("esdb: credentials are ignored on a connection without TLS (tls=false)")
	}
	// The client logs every dropped call as an error; the store reports them
	// to its callers, who log them once, so the client's own lines are debug.
	conf.Logger = func(level kdb.LogLevel, format string, args ...any) {
		log.Debug("esdb client", "level", level, "msg", lazyf{format, args})
	}
	return conf, nil
}

// lazyf formats only when the handler logs it.
type lazyf struct {
	format string
	args   []any
}

func (l lazyf) LogValue() slog.Value { return slog.StringValue(fmt.Sprintf(l.format, l.args...)) }

// certPool parses PEM certificates.
func certPool(pem []byte) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, errors.New("no PEM certificate found")
	}
	return pool, nil
}

// redact removes the user info of s from msg: every candidate (what comes
// before each @ of the string, and the password in it) as it is,
// URL-unescaped and as Go quoting escapes it (the client's messages quote
// the string with %q), longest first.
func redact(msg, s string) string {
	_, rest, ok := strings.Cut(s, "://")
	if !ok {
		return msg
	}
	var secrets []string
	add := func(v string) {
		if v == "" {
			return
		}
		secrets = append(secrets, v, strings.Trim(strconv.Quote(v), `"`))
		if u, err := url.PathUnescape(v); err == nil && u != v {
			secrets = append(secrets, u, strings.Trim(strconv.Quote(u), `"`))
		}
	}
	for i := strings.IndexByte(rest, '@'); i >= 0; {
		userinfo := rest[:i]
		add(userinfo)
		_, password, _ := strings.Cut(userinfo, ":")
		add(password)
		next := strings.IndexByte(rest[i+1:], '@')
		if next < 0 {
			break
		}
		i += 1 + next
	}
	slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	for _, v := range secrets {
		msg = strings.ReplaceAll(msg, v, "…")
	}
	return msg
}

// redactedHosts returns the hosts part of a connection string without credentials or settings.
func redactedHosts(rest string) string {
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		rest = rest[at+1:]
	}
	if q := strings.IndexAny(rest, "?/"); q >= 0 {
		rest = rest[:q]
	}
	return rest
}
