package esdb

import (
	"strings"
	"testing"
)

// FuzzConnectionString feeds the connection-string parser (the client
// library's, behind the KurrentDB scheme mapping) arbitrary strings around a
// password: it never panics, and its error never quotes the password (the
// string comes from MEETINGD_EVENTSTORE, and errors are logged and printed).
func FuzzConnectionString(f *testing.F) {
	for _, s := range [][3]string{
		{"esdb", "localhost:2113?tls=false", "changeit"},
		{"kurrentdb", "a:1,b:2,c:3?nodePreference=leader&tlsVerifyCert=false", "pw"},
		{"esdb+discover", "cluster.example:2113?keepAliveInterval=-5", "p%40ss"},
		{"kdb", "h:99999?maxDiscoverAttempts=x", "p"},
		{"esdb", "h:2113?tls=maybe&tlsCAFile=/nope", "secret"},
		{"ESDB", "[::1]:2113?defaultDeadline=abc", "s"},
		{"esdb", "@@@?=&=", ":"},
		{"http", "h:1", "pw"},
		{"", "", ""},
	} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, scheme, rest, password string) {
		// A password the parser takes as it is (no escapes), marked so that
		// it cannot occur in a message by chance.
		password = "Pw7q" + strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, password)
		s := scheme + "://admin:" + password + "@" + rest
		conf, err := parseConnectionString(s)
		if err != nil {
			if strings.Contains(err.Error(), password) {
				t.Fatalf("error quotes the password: %v", err)
			}
			return
		}
		if conf == nil {
			t.Fatalf("%q: no configuration and no error", s)
		}
		if !IsConnectionString(s) {
			t.Fatalf("%q parsed but IsConnectionString says no", s)
		}
	})
}
