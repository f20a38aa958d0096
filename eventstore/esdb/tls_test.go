package esdb_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/meetingd/meetingd/eventstore"
	"github.com/meetingd/meetingd/eventstore/esdb"
	"github.com/meetingd/meetingd/eventstore/esdb/esdbtest"
)

// selfSigned returns a certificate for 127.0.0.1 and the path of its PEM.
func selfSigned(t *testing.T) (tls.Certificate, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "esdbtest"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, path
}

func TestTLSAndCredentials(t *testing.T) {
	cert, caFile := selfSigned(t)
	conn, srv := esdbtest.StartServer(t, esdbtest.WithTLS(cert), esdbtest.WithCredentials("ops", "s3cret"))

	use := func(t *testing.T, s *esdb.Store) {
		t.Helper()
		stream := unique("session-") + "tls"
		mustAppend(t, s, stream, eventstore.NoStream, event("a.v1"))
		if got := readStream(t, s, stream); len(got) != 1 {
			t.Fatalf("read %d events", len(got))
		}
		for _, err := range s.SubscribeAll(bounded(t), eventstore.Start, eventstore.Filter{StreamPrefixes: []string{stream}}) {
			if err != nil {
				t.Fatal(err)
			}
			break
		}
	}
	t.Run("config fields", func(t *testing.T) {
		use(t, open(t, conn, esdb.Config{TLSCAFile: caFile, Username: "ops", Password: "s3cret"}))
	})
	t.Run("connection string", func(t *testing.T) {
		use(t, open(t, "kurrentdb://ops:s3cret@"+srv.Addr()+"?tlsCAFile="+caFile, esdb.Config{}))
	})
	t.Run("skip verify", func(t *testing.T) {
		use(t, open(t, conn, esdb.Config{TLSSkipVerify: true, Username: "ops", Password: "s3cret"}))
	})
	t.Run("wrong password fails Open", func(t *testing.T) {
		_, err := esdb.Open(bounded(t), esdb.Config{ConnectionString: conn, TLSCAFile: caFile, Username: "ops", Password: "nope"}, testLogger(t))
		if err == nil || errors.Is(err, eventstore.ErrUnavailable) || !strings.Contains(err.Error(), "permission") {
			t.Fatalf("Open: %v, want a permission error", err)
		}
		if strings.Contains(err.Error(), "nope") {
			t.Errorf("error shows the password: %v", err)
		}
	})
	t.Run("unknown issuer is unavailable", func(t *testing.T) {
		// Close waits for the library's calls, which retry discovery: keep both short.
		s := open(t, conn+"?maxDiscoverAttempts=1", esdb.Config{Username: "ops", Password: "s3cret", PingTimeout: time.Second, CloseTimeout: 200 * time.Millisecond})
		if err := s.Ping(bounded(t)); !errors.Is(err, eventstore.ErrUnavailable) {
			t.Fatalf("Ping: %v, want ErrUnavailable", err)
		}
	})
	t.Run("missing CA file", func(t *testing.T) {
		_, err := esdb.Open(bounded(t), esdb.Config{ConnectionString: conn, TLSCAFile: filepath.Join(t.TempDir(), "none.pem")}, nil)
		if err == nil || !strings.Contains(err.Error(), "CA file") {
			t.Fatalf("Open: %v", err)
		}
	})
}
