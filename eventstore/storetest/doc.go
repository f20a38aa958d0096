// Package storetest is the contract test suite that every eventstore.Store
// implementation must pass.
//
// An implementation's tests call Run with a function that opens a fresh store
// for each test (and, where the implementation can, a way to close and reopen
// the same data), and with the Features that declare where the
// implementation legitimately differs:
//
//	func TestContract(t *testing.T) {
//		storetest.Run(t, storetest.Features{}, func(t *testing.T) storetest.Harness {
//			dir := t.TempDir()
//			open := func(t *testing.T) eventstore.Store { … open on dir, t.Cleanup(close) … }
//			return storetest.Harness{Store: open(t), Reopen: open}
//		})
//	}
//
// Every test runs in parallel with the others, on its own store, and names
// its streams with a prefix unique to the test, so the suite also runs
// against one shared server (declare Features.SharedLog). Tests that wait
// are bounded by Features.Timeout.
package storetest
