package esdb_test

import (
	"os"
	"testing"

	"github.com/meetingd/meetingd/eventstore"
	"github.com/meetingd/meetingd/eventstore/esdb"
	"github.com/meetingd/meetingd/eventstore/esdb/esdbtest"
	"github.com/meetingd/meetingd/eventstore/storetest"
)

// TestContract runs the shared suite through the real client library over
// loopback gRPC, each test on a fresh in-process server, and against the
// server in MEETINGD_TEST_KURRENTDB when it is set.
func TestContract(t *testing.T) {
	t.Run("inprocess", func(t *testing.T) {
		storetest.Run(t, storetest.Features{DeletedInAll: true}, func(t *testing.T) storetest.Harness {
			conn, _ := esdbtest.StartServer(t)
			reopen := func(t *testing.T) eventstore.Store { return open(t, conn, esdb.Config{}) }
			return storetest.Harness{Store: reopen(t), Reopen: reopen}
		})
	})
	conn := os.Getenv(realServerEnv)
	if conn == "" {
		t.Logf("%s is not set: the suite ran against the in-process server only", realServerEnv)
		return
	}
	t.Run("kurrentdb", func(t *testing.T) {
		storetest.Run(t, storetest.Features{SharedLog: true, DeletedInAll: true}, func(t *testing.T) storetest.Harness {
			reopen := func(t *testing.T) eventstore.Store { return open(t, conn, esdb.Config{}) }
			return storetest.Harness{Store: reopen(t), Reopen: reopen}
		})
	})
}
