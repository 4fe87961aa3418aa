package resiliencegrpc

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/idempotency"
)

// IdempotencyConfig configures [IdempotencyUnaryServerInterceptor]. The
// zero value of every field means the documented default.
type IdempotencyConfig struct {
	// Methods reports whether a method is guarded. Nil means every unary
	// method. Calls of other methods pass through untouched.
	Methods func(fullMethod string) bool
	// RequireKey answers a guarded call without idempotency-key metadata
	// with INVALID_ARGUMENT. By default such a call passes through
	// unprotected.
	RequireKey bool
	// Tenant, if set, scopes keys (through idempotency.DeriveKey): calls of
	// different tenants never share a record even with equal keys. It
	// typically returns the authenticated account. Without it, the call's
	// authorization metadata is part of the fingerprint (hashed; never
	// stored), so another caller reusing a key gets INVALID_ARGUMENT, never
	// the first caller's response.
	Tenant func(ctx context.Context) string
	// InProgressRetryAfter is the pushback sent with the ABORTED that
	// answers a call whose key is in progress. Zero means 1s; negative
	// panics.
	InProgressRetryAfter time.Duration
	// Lease and Retention mean what they mean in idempotency.Options (zero
	// means 30s and 24h; negative panics).
	Lease     time.Duration
	Retention time.Duration
	// Name is copied into every Event.
	Name string
	// Observer receives idempotency.Do's events for every guarded call that
	// carries a key. Nil means none.
	Observer resilience.Observer
}

// Validate reports what [IdempotencyUnaryServerInterceptor] would panic on
// in c: a negative duration.
func (c IdempotencyConfig) Validate() error {
	switch {
	case c.InProgressRetryAfter < 0:
		return fmt.Errorf("resiliencegrpc: negative InProgressRetryAfter %v", c.InProgressRetryAfter)
	case c.Lease < 0:
		return fmt.Errorf("resiliencegrpc: negative Lease %v", c.Lease)
	case c.Retention < 0:
		return fmt.Errorf("resiliencegrpc: negative Retention %v", c.Retention)
	}
	return nil
}

// IdempotencyUnaryServerInterceptor returns a server interceptor that runs
// each guarded unary call carrying idempotency-key metadata at most once
// per key, over store, through idempotency.Do (so with its lease,
// heartbeat and fence: the handler's context carries the key and fence,
// idempotency.FenceFrom). The call is fingerprinted by a SHA-256 of its
// method, its request marshalled deterministically and, without
// Config.Tenant, its authorization metadata. Then:
//
//   - no key: passes through, or INVALID_ARGUMENT with RequireKey;
//   - a malformed key (repeated, or one idempotency.ValidateKey refuses):
//     INVALID_ARGUMENT, and the handler does not run;
//   - the first call with the key: the handler runs, and its response and
//     status (code, message and details) are returned and recorded, except
//     the statuses that mean "not processed, try again": UNAVAILABLE,
//     RESOURCE_EXHAUSTED, ABORTED and DEADLINE_EXCEEDED, which release the
//     key, as does a handler that calls idempotency.ReleaseKey;
//   - while that call runs: ABORTED with a pushback of
//     InProgressRetryAfter, which this package's client interceptors retry
//     for a call with a key (ALREADY_EXISTS would not be retried);
//   - the key reused with a different request: INVALID_ARGUMENT;
//   - a recorded call: its status, and its response decoded into a new
//     message of the recorded type (which must be linked into the
//     program, as generated code is); the handler does not run;
//   - the store unavailable or full: UNAVAILABLE; nothing ran;
//   - a request that is not a proto message: INTERNAL; nothing ran.
//
// The first call gets the handler's own outcome even when the store fails
// to take it (the key then stays in progress until its lease ends, as
// idempotency.Do does); a response that could not be recorded (too large
// for the store, or not a proto message) is replayed as INTERNAL, saying
// the call ran once. A handler that panics releases the key.
//
// It panics if store is nil (untyped or typed) or c fails
// [IdempotencyConfig.Validate].
func IdempotencyUnaryServerInterceptor(store idempotency.Store, c IdempotencyConfig) grpc.UnaryServerInterceptor {
	if isNil(store) {
		panic("resiliencegrpc: IdempotencyUnaryServerInterceptor: nil store")
	}
	if err := c.Validate(); err != nil {
		panic(err.Error())
	}
	if c.InProgressRetryAfter == 0 {
		c.InProgressRetryAfter = time.Second
	}
	g := &guard{store: store, c: c, inProgress: pushbackMS(c.InProgressRetryAfter)}
	return g.intercept
}

type guard struct {
	store      idempotency.Store
	c          IdempotencyConfig
	inProgress string // the in-progress answer's pushback
}

func (g *guard) intercept(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if g.c.Methods != nil && !g.c.Methods(info.FullMethod) {
		return handler(ctx, req)
	}
	md, _ := metadata.FromIncomingContext(ctx)
	keys := md[KeyMetadata]
	switch {
	case len(keys) == 0 && g.c.RequireKey:
		return nil, status.Error(codes.InvalidArgument, "resiliencegrpc: this method requires idempotency-key metadata")
	case len(keys) == 0:
		return handler(ctx, req)
	case len(keys) > 1:
		return nil, status.Errorf(codes.InvalidArgument, "resiliencegrpc: %d idempotency-key values; send one", len(keys))
	}
	key := keys[0]
	if err := idempotency.ValidateKey(key); err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "resiliencegrpc: malformed idempotency-key: %v", err)
	}
	preq, ok := req.(proto.Message)
	if !ok {
		return nil, status.Errorf(codes.Internal, "resiliencegrpc: request %T is not a proto message", req)
	}
	fp, err := fingerprint(info.FullMethod, preq, md, g.c.Tenant == nil)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "resiliencegrpc: marshal the request: %v", err)
	}
	if g.c.Tenant != nil {
		key = idempotency.DeriveKey(g.c.Tenant(ctx), key)
	}

	var (
		resp any
		herr error
		ran  bool
	)
	rec, replayed, err := idempotency.Do(ctx, g.store, key, func(ctx context.Context) (record, error) {
		resp, herr = handler(ctx, req)
		ran = true
		if unrecorded(status.Code(herr)) {
			return record{}, herr // released: a retry runs the handler again
		}
		return newRecord(resp, herr), nil
	}, idempotency.Options{
		Fingerprint: fp,
		Lease:       g.c.Lease,
		Retention:   g.c.Retention,
		Codec:       recordCodec{},
		Name:        g.c.Name,
		Observer:    g.c.Observer,
	})
	switch {
	case ran:
		return resp, herr
	case replayed && err == nil:
		return rec.replay()
	case replayed && errors.Is(err, idempotency.ErrNotRecorded):
		return nil, status.Error(codes.Internal, "resiliencegrpc: this call ran once, but its response could not be recorded for replay")
	case replayed:
		return nil, status.Errorf(codes.Internal, "resiliencegrpc: the recorded response cannot be replayed: %v", err)
	}
	return nil, g.refuse(ctx, err)
}

// refuse answers a call whose claim failed.
func (g *guard) refuse(ctx context.Context, err error) error {
	switch {
	case errors.Is(err, idempotency.ErrInProgress):
		_ = grpc.SetTrailer(ctx, metadata.Pairs(PushbackKey, g.inProgress))
		return status.Error(codes.Aborted, "resiliencegrpc: a call with this idempotency key is in progress; retry later")
	case errors.Is(err, idempotency.ErrMismatch):
		return status.Error(codes.InvalidArgument, "resiliencegrpc: this idempotency key was used for a different request")
	case errors.Is(err, idempotency.ErrInvalidKey):
		return status.Errorf(codes.InvalidArgument, "resiliencegrpc: malformed idempotency-key: %v", err)
	case ctx.Err() != nil:
		return status.FromContextError(ctx.Err()).Err()
	}
	return status.Errorf(codes.Unavailable, "resiliencegrpc: idempotency store unavailable; the call was not processed: %v", err)
}

// unrecorded reports whether a handler's status means "not processed, try
// again": such outcomes release the key rather than being recorded.
func unrecorded(c codes.Code) bool {
	switch c {
	case codes.Unavailable, codes.ResourceExhausted, codes.Aborted, codes.DeadlineExceeded:
		return true
	}
	return false
}

// fingerprint returns the hex SHA-256 of the method, the request marshalled
// deterministically and, with auth, the authorization metadata, each
// length-prefixed so that no two inputs share a digest.
func fingerprint(method string, req proto.Message, md metadata.MD, auth bool) (string, error) {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(req)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	field := func(p []byte) {
		var n [8]byte
		for i := range n {
			n[i] = byte(uint64(len(p)) >> (8 * i))
		}
		h.Write(n[:])
		h.Write(p)
	}
	field([]byte(method))
	field(b)
	if auth {
		for _, v := range md["authorization"] {
			field([]byte(v))
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// record is a recorded outcome: a status, and for OK a response message.
type record struct {
	Status []byte // the status proto, marshalled; empty for OK
	Type   string // the response message's full name
	Body   []byte // the response message, marshalled
}

// newRecord records a handler's outcome.
func newRecord(resp any, err error) record {
	if err != nil {
		b, merr := proto.Marshal(status.Convert(err).Proto())
		if merr != nil {
			return placeholder("its status could not be marshalled")
		}
		return record{Status: b}
	}
	m, ok := resp.(proto.Message)
	if !ok || m == nil {
		return placeholder(fmt.Sprintf("its response %T is not a proto message", resp))
	}
	b, merr := proto.Marshal(m)
	if merr != nil {
		return placeholder("its response could not be marshalled")
	}
	return record{Type: string(m.ProtoReflect().Descriptor().FullName()), Body: b}
}

// placeholder is recorded in place of an outcome that cannot be: its replay
// is INTERNAL.
func placeholder(why string) record {
	b, _ := proto.Marshal(status.New(codes.Internal, "resiliencegrpc: this call ran once, but "+why+" for replay").Proto())
	return record{Status: b}
}

// replay returns the recorded outcome.
func (r record) replay() (any, error) {
	if len(r.Status) > 0 {
		st, err := unmarshalStatus(r.Status)
		if err != nil {
			return nil, status.Errorf(codes.Internal, "resiliencegrpc: the recorded status cannot be replayed: %v", err)
		}
		return nil, st.Err()
	}
	mt, err := protoregistry.GlobalTypes.FindMessageByName(protoreflect.FullName(r.Type))
	if err != nil {
		return nil, status.Errorf(codes.Internal, "resiliencegrpc: the recorded response type %q is unknown: %v", r.Type, err)
	}
	m := mt.New().Interface()
	if err := proto.Unmarshal(r.Body, m); err != nil {
		return nil, status.Errorf(codes.Internal, "resiliencegrpc: the recorded response cannot be replayed: %v", err)
	}
	return m, nil
}
