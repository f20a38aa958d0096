package esdbtest

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	api "github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// Server is an in-memory EventStoreDB speaking the gRPC Streams protocol
// subset described in the package documentation. Its methods are safe for
// concurrent use.
type Server struct {
	api.UnimplementedStreamsServer

	grpc *grpc.Server
	ln   net.Listener
	tls  bool
	stop sync.Once

	mu      sync.Mutex
	log     []*record            // $all, in position order
	streams map[string][]*record // by stream, in revision order
	deleted map[string]bool      // tombstoned streams (Tombstone)
	// base is the first revision of a stream re-created after a soft
	// delete (Delete): its revisions continue after the deleted ones.
	base    map[string]uint64
	next    uint64        // the next free log position
	changed chan struct{} // closed (and replaced) on every write
	subs    map[*subscription]struct{}
	opened  []SubscriptionRequest
	hook    func(Message) error
	fail    []appendFault
	racers  []bool // see Race
	appends int
}

// record is one stored event.
type record struct {
	id          uuid.UUID
	stream      string
	revision    uint64
	typ         string
	contentType string
	data, meta  []byte
	commit      uint64
	prepare     uint64
	created     int64 // .NET ticks (100 ns) since the Unix epoch, as the server sends them
}

func (r *record) after(commit, prepare uint64) bool {
	return r.commit > commit || (r.commit == commit && r.prepare > prepare)
}

// firstAfter returns the index of the first record of log (sorted by
// position) after (commit, prepare), or at it too when inclusive.
func firstAfter(log []*record, commit, prepare uint64, inclusive bool) int {
	return sort.Search(len(log), func(i int) bool {
		r := log[i]
		if inclusive && r.commit == commit && r.prepare == prepare {
			return true
		}
		return r.after(commit, prepare)
	})
}

// SubscriptionRequest is what a client asked for when it subscribed to $all.
type SubscriptionRequest struct {
	// FromStart is set when the client subscribed from the start of $all,
	// FromEnd from its end; otherwise Commit and Prepare give the position after
	// which it subscribed.
	FromStart, FromEnd bool
	Commit, Prepare    uint64
	// Prefixes or Regex is the stream-name (or, with EventTypeFilter, the
	// event-type) filter, if any.
	Prefixes        []string
	Regex           string
	EventTypeFilter bool
	// CheckpointEvery is the number of scanned events between checkpoints
	// (max search window × multiplier); 0 without a filter.
	CheckpointEvery int
}

// MessageKind tells what a subscription message carries.
type MessageKind int

// The kinds of subscription messages a Hook sees.
const (
	KindEvent MessageKind = iota + 1
	KindCheckpoint
	KindCaughtUp
)

// Message describes a subscription message that the server has just sent.
type Message struct {
	// Subscription is the 0-based index of the subscription (in the order the
	// server accepted them, see Subscriptions).
	Subscription int
	Kind         MessageKind
	// Stream is the event's stream (KindEvent).
	Stream string
	// Commit and Prepare are the event's or the checkpoint's position.
	Commit, Prepare uint64
	// Events is how many events this subscription has sent so far.
	Events int
}

type appendFault struct {
	err        error
	afterWrite bool
}

type subscription struct {
	index int
	cut   chan error // buffered; a value ends the subscription with that error
}

// Option configures a Server.
type Option func(*options)

type options struct {
	cert       *tls.Certificate
	authHeader string
}

// WithTLS serves over TLS with cert (clients then connect with tls=true and
// trust its issuer, e.g. through tlsCAFile).
func WithTLS(cert tls.Certificate) Option { return func(o *options) { o.cert = &cert } }

// WithCredentials refuses calls (Unauthenticated) that do not carry these
// HTTP Basic credentials, as a secure node does.
func WithCredentials(user, password string) Option {
	return func(o *options) {
		o.authHeader = "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+password))
	}
}

// Start serves on addr ("127.0.0.1:0" picks a free port) until Stop.
func Start(addr string, opts ...Option) (*Server, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("esdbtest: listen: %w", err)
	}
	s := &Server{
		ln:      ln,
		tls:     o.cert != nil,
		streams: map[string][]*record{},
		deleted: map[string]bool{},
		base:    map[string]uint64{},
		next:    1024, // the real log starts with its own records, never at 0
		changed: make(chan struct{}),
		subs:    map[*subscription]struct{}{},
	}
	// The client pings every 10 s even when idle; a real server allows it.
	sopts := []grpc.ServerOption{grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{
		MinTime: time.Second, PermitWithoutStream: true,
	})}
	if o.cert != nil {
		sopts = append(sopts, grpc.Creds(credentials.NewServerTLSFromCert(o.cert)))
	}
	if o.authHeader != "" {
		check := func(ctx context.Context) error {
			md, _ := metadata.FromIncomingContext(ctx)
			if v := md.Get("authorization"); len(v) != 1 || v[0] != o.authHeader {
				return status.Error(codes.Unauthenticated, "bad or missing credentials")
			}
			return nil
		}
		sopts = append(sopts,
			grpc.UnaryInterceptor(func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
				if err := check(ctx); err != nil {
					return nil, err
				}
				return h(ctx, req)
			}),
			grpc.StreamInterceptor(func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
				if err := check(ss.Context()); err != nil {
					return err
				}
				return h(srv, ss)
			}))
	}
	s.grpc = grpc.NewServer(sopts...)
	api.RegisterStreamsServer(s.grpc, s)
	// Like a real node, $all starts with the server's own events.
	s.AppendSystemEvent("$stats-127.0.0.1:2113", "$statsCollected")
	go func() { _ = s.grpc.Serve(ln) }()
	return s, nil
}

// StartServer starts a Server on a free loopback port, stops it when t ends
// and returns its connection string with it.
func StartServer(t testing.TB, opts ...Option) (string, *Server) {
	t.Helper()
	s, err := Start("127.0.0.1:0", opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s.ConnectionString(), s
}

// ConnectionString is esdb://host:port?tls=false for this server (without
// the setting when it serves TLS; credentials are the caller's to add).
func (s *Server) ConnectionString() string {
	if s.tls {
		return "esdb://" + s.ln.Addr().String()
	}
	return "esdb://" + s.ln.Addr().String() + "?tls=false"
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Stop closes every connection and stops serving. It is idempotent.
func (s *Server) Stop() {
	s.stop.Do(func() { s.grpc.Stop() })
}

// AppendSystemEvent appends an event to a server-owned ($-prefixed) stream,
// as the server itself does for statistics, metadata and projections.
func (s *Server) AppendSystemEvent(stream, eventType string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.write(stream, []*api.AppendReq_ProposedMessage{{
		Id:       toUUID(uuid.New()),
		Metadata: map[string]string{"type": eventType, "content-type": "application/json"},
		Data:     []byte(`{}`),
	}})
}

// Len returns the number of events in $all, system events included.
func (s *Server) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.log)
}

// Appends returns the number of Append calls the server has answered.
func (s *Server) Appends() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.appends
}

// Subscriptions returns the subscriptions to $all opened so far, in order.
func (s *Server) Subscriptions() []SubscriptionRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SubscriptionRequest(nil), s.opened...)
}

// SetHook installs f, which sees every subscription message right after it is
// sent; a non-nil result ends that subscription with the error (use a gRPC
// status error, e.g. status.Error(codes.Unavailable, "…"), for what a network
// cut looks like to the client). nil removes the hook.
func (s *Server) SetHook(f func(Message) error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hook = f
}

// CutSubscriptions ends every open subscription with err now.
func (s *Server) CutSubscriptions(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for sub := range s.subs {
		select {
		case sub.cut <- err:
		default:
		}
	}
}

// FailAppends makes the next n Append calls fail with err. With afterWrite,
// the events are stored first: the client sees a failure whose outcome is in
// fact success, as after a timeout.
func (s *Server) FailAppends(n int, err error, afterWrite bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.fail = append(s.fail, appendFault{err: err, afterWrite: afterWrite})
	}
}

// Race makes each of the next n Append calls lose a race: just before the
// server handles it, another writer appends to the same stream — a foreign
// event, or with same the very events of the call (another replica storing
// the same webhook).
func (s *Server) Race(n int, same bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.racers = append(s.racers, same)
	}
}

// Append implements the Streams.Append RPC: an options message, then the
// proposed events; the expected revision is checked and the server's
// idempotence applied as described in the package documentation.
func (s *Server) Append(srv api.Streams_AppendServer) error {
	first, err := srv.Recv()
	if err != nil {
		return err
	}
	opts := first.GetOptions()
	if opts == nil {
		return status.Error(codes.InvalidArgument, "the first append message must carry options")
	}
	stream := string(opts.GetStreamIdentifier().GetStreamName())
	if stream == "" {
		return status.Error(codes.InvalidArgument, "empty stream name")
	}
	var proposed []*api.AppendReq_ProposedMessage
	for {
		m, err := srv.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		pm := m.GetProposedMessage()
		if pm == nil {
			return status.Error(codes.InvalidArgument, "expected a proposed message")
		}
		if _, ok := pm.GetMetadata()["type"]; !ok {
			return status.Error(codes.InvalidArgument, "proposed message has no type")
		}
		proposed = append(proposed, pm)
	}

	s.mu.Lock()
	if s.deleted[stream] {
		s.mu.Unlock()
		return streamDeleted(srv.SetTrailer, stream)
	}
	s.appends++
	var fault *appendFault
	if len(s.fail) > 0 {
		fault = &s.fail[0]
		s.fail = s.fail[1:]
	}
	if len(s.racers) > 0 {
		same := s.racers[0]
		s.racers = s.racers[1:]
		if same {
			s.write(stream, proposed)
		} else {
			s.write(stream, []*api.AppendReq_ProposedMessage{{
				Id:       toUUID(uuid.New()),
				Metadata: map[string]string{"type": "racer.v1", "content-type": "application/json"},
				Data:     []byte(`{}`),
			}})
		}
	}
	var resp *api.AppendResp
	if fault == nil || fault.afterWrite {
		resp = s.appendLocked(stream, opts, proposed)
	}
	s.mu.Unlock()
	if fault != nil {
		return fault.err
	}
	return srv.SendAndClose(resp)
}

func (s *Server) appendLocked(stream string, opts *api.AppendReq_Options, proposed []*api.AppendReq_ProposedMessage) *api.AppendResp {
	recs := s.streams[stream]
	exists := len(recs) > 0
	base := int64(s.base[stream])
	last := uint64(base) + uint64(len(recs)) - 1 // meaningless when !exists

	// after is the revision after which the append goes (-1: a new stream).
	var after int64
	switch e := opts.GetExpectedStreamRevision().(type) {
	case *api.AppendReq_Options_Revision:
		after = int64(e.Revision)
	case *api.AppendReq_Options_NoStream:
		after = -1
	case *api.AppendReq_Options_StreamExists:
		if !exists {
			return wrongExpected(opts, exists, last)
		}
		return s.appendAny(stream, recs, opts, proposed)
	default: // Any
		return s.appendAny(stream, recs, opts, proposed)
	}
	current := base + int64(len(recs)) - 1
	if after == current || (after == -1 && !exists) {
		return s.success(s.write(stream, proposed))
	}
	// Idempotence: the events right after the expected revision are these.
	if after < current && after+1 >= base && len(proposed) > 0 && idsMatch(recs, after+1-base, proposed) {
		return s.success(recs[after-base+int64(len(proposed))])
	}
	return wrongExpected(opts, exists, last)
}

// appendAny applies Any/StreamExists: the real server looks the first ID up in
// a cache of recent writes; this one looks through the whole stream.
func (s *Server) appendAny(stream string, recs []*record, opts *api.AppendReq_Options, proposed []*api.AppendReq_ProposedMessage) *api.AppendResp {
	if len(proposed) > 0 {
		first := fromUUID(proposed[0].GetId())
		for i, r := range recs {
			if r.id != first {
				continue
			}
			if idsMatch(recs, int64(i), proposed) {
				return s.success(recs[i+len(proposed)-1])
			}
			return wrongExpected(opts, true, s.base[stream]+uint64(len(recs))-1)
		}
	}
	return s.success(s.write(stream, proposed))
}

func idsMatch(recs []*record, from int64, proposed []*api.AppendReq_ProposedMessage) bool {
	if from+int64(len(proposed)) > int64(len(recs)) {
		return false
	}
	for i, pm := range proposed {
		if recs[from+int64(i)].id != fromUUID(pm.GetId()) {
			return false
		}
	}
	return true
}

// write stores proposed at the end of stream and returns the last record
// (nil for an empty append). Events of one append are one transaction: each
// has its own prepare position and all share the commit position, which
// follows their prepares (as in the real log, so Commit ≠ Prepare).
func (s *Server) write(stream string, proposed []*api.AppendReq_ProposedMessage) *record {
	if len(proposed) == 0 {
		return nil
	}
	const step = 64
	commit := s.next + uint64(len(proposed))*step
	now := time.Now().UnixNano() / 100
	var last *record
	for i, pm := range proposed {
		md := pm.GetMetadata()
		last = &record{
			id:          fromUUID(pm.GetId()),
			stream:      stream,
			revision:    s.base[stream] + uint64(len(s.streams[stream])),
			typ:         md["type"],
			contentType: md["content-type"],
			data:        append([]byte(nil), pm.GetData()...),
			meta:        append([]byte(nil), pm.GetCustomMetadata()...),
			prepare:     s.next + uint64(i)*step,
			commit:      commit,
			created:     now,
		}
		s.streams[stream] = append(s.streams[stream], last)
		s.log = append(s.log, last)
	}
	s.next = commit + step
	close(s.changed)
	s.changed = make(chan struct{})
	return last
}

func (s *Server) success(last *record) *api.AppendResp {
	ok := &api.AppendResp_Success{}
	if last == nil {
		ok.CurrentRevisionOption = &api.AppendResp_Success_NoStream{NoStream: &shared.Empty{}}
		ok.PositionOption = &api.AppendResp_Success_NoPosition{NoPosition: &shared.Empty{}}
	} else {
		ok.CurrentRevisionOption = &api.AppendResp_Success_CurrentRevision{CurrentRevision: last.revision}
		ok.PositionOption = &api.AppendResp_Success_Position{Position: &api.AppendResp_Position{
			CommitPosition: last.commit, PreparePosition: last.prepare,
		}}
	}
	return &api.AppendResp{Result: &api.AppendResp_Success_{Success: ok}}
}

func wrongExpected(opts *api.AppendReq_Options, exists bool, last uint64) *api.AppendResp {
	w := &api.AppendResp_WrongExpectedVersion{}
	if exists {
		w.CurrentRevisionOption = &api.AppendResp_WrongExpectedVersion_CurrentRevision{CurrentRevision: last}
		w.CurrentRevisionOption_20_6_0 = &api.AppendResp_WrongExpectedVersion_CurrentRevision_20_6_0{CurrentRevision_20_6_0: last}
	} else {
		w.CurrentRevisionOption = &api.AppendResp_WrongExpectedVersion_CurrentNoStream{CurrentNoStream: &shared.Empty{}}
		w.CurrentRevisionOption_20_6_0 = &api.AppendResp_WrongExpectedVersion_NoStream_20_6_0{NoStream_20_6_0: &shared.Empty{}}
	}
	switch e := opts.GetExpectedStreamRevision().(type) {
	case *api.AppendReq_Options_Revision:
		w.ExpectedRevisionOption = &api.AppendResp_WrongExpectedVersion_ExpectedRevision{ExpectedRevision: e.Revision}
		w.ExpectedRevisionOption_20_6_0 = &api.AppendResp_WrongExpectedVersion_ExpectedRevision_20_6_0{ExpectedRevision_20_6_0: e.Revision}
	case *api.AppendReq_Options_NoStream:
		w.ExpectedRevisionOption = &api.AppendResp_WrongExpectedVersion_ExpectedNoStream{ExpectedNoStream: &shared.Empty{}}
	case *api.AppendReq_Options_StreamExists:
		w.ExpectedRevisionOption = &api.AppendResp_WrongExpectedVersion_ExpectedStreamExists{ExpectedStreamExists: &shared.Empty{}}
		w.ExpectedRevisionOption_20_6_0 = &api.AppendResp_WrongExpectedVersion_StreamExists_20_6_0{StreamExists_20_6_0: &shared.Empty{}}
	default:
		w.ExpectedRevisionOption = &api.AppendResp_WrongExpectedVersion_ExpectedAny{ExpectedAny: &shared.Empty{}}
		w.ExpectedRevisionOption_20_6_0 = &api.AppendResp_WrongExpectedVersion_Any_20_6_0{Any_20_6_0: &shared.Empty{}}
	}
	return &api.AppendResp{Result: &api.AppendResp_WrongExpectedVersion_{WrongExpectedVersion: w}}
}

// Delete implements the Streams.Delete RPC as KurrentDB's soft delete:
// the stream reads as not found, an append re-creates it with revisions
// that continue after the deleted ones, and its events stay in $all (the
// real server keeps them there until a scavenge). Any or NoStream on a
// missing stream deletes nothing; StreamExists or a revision on a missing
// stream, or a revision that is not the last, fails (NotFound or a wrong
// expected version).
func (s *Server) Delete(_ context.Context, req *api.DeleteReq) (*api.DeleteResp, error) {
	o := req.GetOptions()
	name := string(o.GetStreamIdentifier().GetStreamName())
	s.mu.Lock()
	defer s.mu.Unlock()
	recs := s.streams[name]
	switch o.GetExpectedStreamRevision().(type) {
	case *api.DeleteReq_Options_StreamExists:
		if len(recs) == 0 {
			return nil, status.Error(codes.NotFound, "esdbtest: stream not found")
		}
	case *api.DeleteReq_Options_Revision:
		if len(recs) == 0 || s.base[name]+uint64(len(recs))-1 != o.GetRevision() {
			return nil, status.Error(codes.FailedPrecondition, "esdbtest: wrong expected version")
		}
	}
	if len(recs) > 0 {
		s.base[name] += uint64(len(recs))
		delete(s.streams, name)
	}
	// The real server writes the stream's metadata and answers its
	// position (the client library needs one); the last log position here.
	pos := &api.DeleteResp_Position{}
	if n := len(s.log); n > 0 {
		pos.CommitPosition, pos.PreparePosition = s.log[n-1].commit, s.log[n-1].prepare
	}
	return &api.DeleteResp{PositionOption: &api.DeleteResp_Position_{Position: pos}}, nil
}

// Read implements the Streams.Read RPC: counted reads of a stream or of $all
// (forwards or backwards) and catch-up subscriptions to $all.
func (s *Server) Read(req *api.ReadReq, srv api.Streams_ReadServer) error {
	o := req.GetOptions()
	if o == nil {
		return status.Error(codes.InvalidArgument, "read without options")
	}
	if o.GetResolveLinks() {
		return status.Error(codes.Unimplemented, "esdbtest: resolving links is not implemented")
	}
	match, err := compileFilter(o.GetFilter())
	if err != nil {
		return err
	}
	switch o.GetCountOption().(type) {
	case *api.ReadReq_Options_Count:
		if st := o.GetStream(); st != nil {
			return s.readStream(srv, st, o.GetReadDirection(), o.GetCount())
		}
		if all := o.GetAll(); all != nil {
			return s.readAll(srv, all, o.GetReadDirection(), o.GetCount(), match)
		}
	case *api.ReadReq_Options_Subscription:
		if all := o.GetAll(); all != nil {
			return s.subscribeAll(srv, all, o.GetFilter(), match)
		}
		return status.Error(codes.Unimplemented, "esdbtest: stream subscriptions are not implemented")
	}
	return status.Error(codes.InvalidArgument, "read: no stream or count option")
}

func (s *Server) readStream(srv api.Streams_ReadServer, o *api.ReadReq_Options_StreamOptions, dir api.ReadReq_Options_ReadDirection, count uint64) error {
	name := string(o.GetStreamIdentifier().GetStreamName())
	s.mu.Lock()
	recs := append([]*record(nil), s.streams[name]...)
	deleted := s.deleted[name]
	base := s.base[name]
	s.mu.Unlock()
	if deleted {
		return streamDeleted(srv.SetTrailer, name)
	}
	if len(recs) == 0 {
		return srv.Send(&api.ReadResp{Content: &api.ReadResp_StreamNotFound_{StreamNotFound: &api.ReadResp_StreamNotFound{
			StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte(name)},
		}}})
	}
	var out []*record
	if dir == api.ReadReq_Options_Forwards {
		from := uint64(0)
		switch r := o.GetRevisionOption().(type) {
		case *api.ReadReq_Options_StreamOptions_Revision:
			from = max(r.Revision, base) - base
		case *api.ReadReq_Options_StreamOptions_End:
			from = uint64(len(recs))
		}
		for i := from; i < uint64(len(recs)) && uint64(len(out)) < count; i++ {
			out = append(out, recs[i])
		}
	} else {
		from := int64(len(recs)) - 1
		switch r := o.GetRevisionOption().(type) {
		case *api.ReadReq_Options_StreamOptions_Revision:
			from = min(int64(r.Revision)-int64(base), from)
		case *api.ReadReq_Options_StreamOptions_Start:
			from = 0
		}
		for i := from; i >= 0 && uint64(len(out)) < count; i-- {
			out = append(out, recs[i])
		}
	}
	for _, r := range out {
		if err := srv.Send(eventResp(r)); err != nil {
			return err
		}
	}
	return nil
}

func (s *Server) readAll(srv api.Streams_ReadServer, o *api.ReadReq_Options_AllOptions, dir api.ReadReq_Options_ReadDirection, count uint64, match func(*record) bool) error {
	s.mu.Lock()
	log := append([]*record(nil), s.log...)
	s.mu.Unlock()
	var out []*record
	if dir == api.ReadReq_Options_Forwards {
		// Forwards from a position includes the event at it.
		start := 0
		switch p := o.GetAllOption().(type) {
		case *api.ReadReq_Options_AllOptions_Position:
			start = firstAfter(log, p.Position.CommitPosition, p.Position.PreparePosition, true)
		case *api.ReadReq_Options_AllOptions_End:
			start = len(log)
		}
		for i := start; i < len(log) && uint64(len(out)) < count; i++ {
			if match(log[i]) {
				out = append(out, log[i])
			}
		}
	} else {
		// Backwards from a position excludes the event at it.
		end := len(log) - 1
		switch p := o.GetAllOption().(type) {
		case *api.ReadReq_Options_AllOptions_Position:
			end = firstAfter(log, p.Position.CommitPosition, p.Position.PreparePosition, true) - 1
		case *api.ReadReq_Options_AllOptions_Start:
			end = -1
		}
		for i := end; i >= 0 && uint64(len(out)) < count; i-- {
			if match(log[i]) {
				out = append(out, log[i])
			}
		}
	}
	for _, r := range out {
		if err := srv.Send(eventResp(r)); err != nil {
			return err
		}
	}
	return nil
}

// subscribeAll serves a catch-up subscription to $all: a confirmation, the
// stored events after the start position that pass the filter, a checkpoint
// every CheckpointEvery scanned events (filtered subscriptions only), a
// caught-up message when it reaches the end, then live events as they are
// written.
func (s *Server) subscribeAll(srv api.Streams_ReadServer, o *api.ReadReq_Options_AllOptions, f *api.ReadReq_Options_FilterOptions, match func(*record) bool) error {
	req := SubscriptionRequest{}
	var commit, prepare uint64
	s.mu.Lock()
	switch p := o.GetAllOption().(type) {
	case *api.ReadReq_Options_AllOptions_Position:
		commit, prepare = p.Position.CommitPosition, p.Position.PreparePosition
		req.Commit, req.Prepare = commit, prepare
	case *api.ReadReq_Options_AllOptions_End:
		req.FromEnd = true
		if n := len(s.log); n > 0 {
			commit, prepare = s.log[n-1].commit, s.log[n-1].prepare
		}
	default:
		req.FromStart = true
	}
	every := 0
	if f != nil {
		expr := f.GetStreamIdentifier()
		if expr == nil {
			expr = f.GetEventType()
			req.EventTypeFilter = true
		}
		req.Prefixes, req.Regex = append([]string(nil), expr.GetPrefix()...), expr.GetRegex()
		window := int(f.GetMax())
		if window == 0 {
			window = 32
		}
		every = window * max(1, int(f.GetCheckpointIntervalMultiplier()))
		req.CheckpointEvery = every
	}
	sub := &subscription{index: len(s.opened), cut: make(chan error, 1)}
	s.opened = append(s.opened, req)
	s.subs[sub] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.subs, sub)
		s.mu.Unlock()
	}()

	if err := srv.Send(&api.ReadResp{Content: &api.ReadResp_Confirmation{Confirmation: &api.ReadResp_SubscriptionConfirmation{
		SubscriptionId: uuid.NewString(),
	}}}); err != nil {
		return err
	}
	ctx := srv.Context()
	sent, scanned, caughtUp := 0, 0, false
	// emit sends m and runs the hook on it.
	emit := func(m *api.ReadResp, msg Message) error {
		select {
		case err := <-sub.cut:
			return err
		default:
		}
		if err := srv.Send(m); err != nil {
			return err
		}
		msg.Subscription, msg.Events = sub.index, sent
		s.mu.Lock()
		hook := s.hook
		s.mu.Unlock()
		if hook != nil {
			return hook(msg)
		}
		return nil
	}
	for {
		s.mu.Lock()
		var batch []*record
		i := firstAfter(s.log, commit, prepare, false)
		if i < len(s.log) {
			batch = append(batch, s.log[i:min(len(s.log), i+64)]...)
		}
		changed := s.changed
		s.mu.Unlock()

		if len(batch) == 0 {
			if !caughtUp {
				caughtUp = true
				if err := emit(&api.ReadResp{Content: &api.ReadResp_CaughtUp_{CaughtUp: &api.ReadResp_CaughtUp{}}},
					Message{Kind: KindCaughtUp, Commit: commit, Prepare: prepare}); err != nil {
					return err
				}
			}
			select {
			case <-changed:
				continue
			case err := <-sub.cut:
				return err
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		for _, r := range batch {
			commit, prepare = r.commit, r.prepare
			scanned++
			if match(r) {
				sent++
				if err := emit(eventResp(r), Message{Kind: KindEvent, Stream: r.stream, Commit: r.commit, Prepare: r.prepare}); err != nil {
					return err
				}
			}
			if every > 0 && scanned%every == 0 {
				cp := &api.ReadResp{Content: &api.ReadResp_Checkpoint_{Checkpoint: &api.ReadResp_Checkpoint{
					CommitPosition: commit, PreparePosition: prepare,
				}}}
				if err := emit(cp, Message{Kind: KindCheckpoint, Commit: commit, Prepare: prepare}); err != nil {
					return err
				}
			}
		}
	}
}

// compileFilter returns the predicate of a server-side filter (all events
// when f is nil).
func compileFilter(f *api.ReadReq_Options_FilterOptions) (func(*record) bool, error) {
	if f == nil {
		return func(*record) bool { return true }, nil
	}
	expr, key := f.GetStreamIdentifier(), func(r *record) string { return r.stream }
	if expr == nil {
		expr, key = f.GetEventType(), func(r *record) string { return r.typ }
	}
	if expr == nil {
		return nil, status.Error(codes.InvalidArgument, "filter without expression")
	}
	if prefixes := expr.GetPrefix(); len(prefixes) > 0 {
		return func(r *record) bool {
			k := key(r)
			for _, p := range prefixes {
				if strings.HasPrefix(k, p) {
					return true
				}
			}
			return false
		}, nil
	}
	re, err := regexp.Compile(expr.GetRegex())
	if err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "filter regex: %v", err)
	}
	return func(r *record) bool { return re.MatchString(key(r)) }, nil
}

func eventResp(r *record) *api.ReadResp {
	return &api.ReadResp{Content: &api.ReadResp_Event{Event: &api.ReadResp_ReadEvent{
		Event: &api.ReadResp_ReadEvent_RecordedEvent{
			Id:               toUUID(r.id),
			StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte(r.stream)},
			StreamRevision:   r.revision,
			PreparePosition:  r.prepare,
			CommitPosition:   r.commit,
			Metadata: map[string]string{
				"type":         r.typ,
				"content-type": r.contentType,
				"created":      fmt.Sprint(r.created),
			},
			CustomMetadata: r.meta,
			Data:           r.data,
		},
		Position: &api.ReadResp_ReadEvent_CommitPosition{CommitPosition: r.commit},
	}}}
}

func toUUID(id uuid.UUID) *shared.UUID {
	return &shared.UUID{Value: &shared.UUID_Structured_{Structured: &shared.UUID_Structured{
		MostSignificantBits:  int64(binary.BigEndian.Uint64(id[:8])),
		LeastSignificantBits: int64(binary.BigEndian.Uint64(id[8:])),
	}}}
}

func fromUUID(u *shared.UUID) uuid.UUID {
	if st := u.GetStructured(); st != nil {
		var id uuid.UUID
		binary.BigEndian.PutUint64(id[:8], uint64(st.GetMostSignificantBits()))
		binary.BigEndian.PutUint64(id[8:], uint64(st.GetLeastSignificantBits()))
		return id
	}
	id, _ := uuid.Parse(u.GetString_())
	return id
}
