package esdbtest

import (
	"context"

	api "github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// streamDeletedType is the type of the event a tombstone writes.
const streamDeletedType = "$streamDeleted"

// Tombstone implements the Streams.Tombstone RPC (a hard delete), as the
// server does: the expected revision is checked, a $streamDeleted event is
// written at the end of the stream, and the stream's earlier events stay in
// $all until Scavenge. Reads of the stream, appends to it and a second
// tombstone then fail with the server's stream-deleted error.
func (s *Server) Tombstone(ctx context.Context, req *api.TombstoneReq) (*api.TombstoneResp, error) {
	o := req.GetOptions()
	name := string(o.GetStreamIdentifier().GetStreamName())
	if name == "" {
		return nil, status.Error(codes.InvalidArgument, "empty stream name")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.deleted[name] {
		return nil, streamDeleted(func(md metadata.MD) { _ = grpc.SetTrailer(ctx, md) }, name)
	}
	recs := s.streams[name]
	exists := len(recs) > 0
	switch e := o.GetExpectedStreamRevision().(type) {
	case *api.TombstoneReq_Options_Revision:
		if !exists || recs[len(recs)-1].revision != e.Revision {
			return nil, status.Error(codes.FailedPrecondition, "esdbtest: wrong expected version")
		}
	case *api.TombstoneReq_Options_NoStream:
		if exists {
			return nil, status.Error(codes.FailedPrecondition, "esdbtest: wrong expected version")
		}
	case *api.TombstoneReq_Options_StreamExists:
		if !exists {
			return nil, status.Error(codes.FailedPrecondition, "esdbtest: wrong expected version")
		}
	}
	last := s.write(name, []*api.AppendReq_ProposedMessage{{
		Id:       toUUID(uuid.New()),
		Metadata: map[string]string{"type": streamDeletedType, "content-type": "application/octet-stream"},
	}})
	s.deleted[name] = true
	return &api.TombstoneResp{PositionOption: &api.TombstoneResp_Position_{Position: &api.TombstoneResp_Position{
		CommitPosition: last.commit, PreparePosition: last.prepare,
	}}}, nil
}

// streamDeleted is the server's error for a deleted stream: the client
// recognises it by the trailers.
func streamDeleted(setTrailer func(metadata.MD), name string) error {
	setTrailer(metadata.Pairs("exception", "stream-deleted", "stream-name", name))
	return status.Error(codes.FailedPrecondition, "esdbtest: stream "+name+" is deleted")
}

// Deleted reports whether stream was tombstoned.
func (s *Server) Deleted(stream string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.deleted[stream]
}

// Scavenge removes the events of tombstoned streams (the $streamDeleted
// event stays) and the soft-deleted events of deleted streams from the log,
// as the server's scavenge does: afterwards no read of the stream or of
// $all returns their bytes. Positions are kept.
func (s *Server) Scavenge() {
	s.mu.Lock()
	defer s.mu.Unlock()
	kept := s.log[:0]
	for _, r := range s.log {
		if (s.deleted[r.stream] && r.typ != streamDeletedType) || r.revision < s.base[r.stream] {
			continue
		}
		kept = append(kept, r)
	}
	clear(s.log[len(kept):])
	s.log = kept
	for name := range s.deleted {
		recs := s.streams[name]
		s.streams[name] = recs[len(recs)-1:]
	}
}

// Records calls f with the stream, type, data and metadata of every event
// of $all (system events included), in position order: what a test scans
// for bytes that must not be stored.
func (s *Server) Records(f func(stream, typ string, data, meta []byte)) {
	s.mu.Lock()
	log := append([]*record(nil), s.log...)
	s.mu.Unlock()
	for _, r := range log {
		f(r.stream, r.typ, r.data, r.meta)
	}
}
