package resiliencegrpc

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"

	"github.com/magicmagnets/resilience"
	"github.com/magicmagnets/resilience/hedge"
	"github.com/magicmagnets/resilience/idempotency"
	"github.com/magicmagnets/resilience/retry"
)

// client is what both client interceptors share.
type client struct {
	shared         resilience.Policy // nil when methods is set
	methods        *methods
	idempotent     func(string) bool
	retryExhausted bool
	retryAborted   bool
	streamRetry    func(string) *retry.Policy
	maxReplay      int
	em             emitter
}

func newClient(c Config) *client {
	if err := c.Validate(); err != nil {
		panic(err.Error())
	}
	cl := &client{
		shared:         c.Policy,
		idempotent:     c.Idempotent,
		retryExhausted: slices.Contains(c.RetryCodes, codes.ResourceExhausted),
		retryAborted:   slices.Contains(c.RetryCodes, codes.Aborted),
		streamRetry:    c.StreamRetry,
		maxReplay:      cmp.Or(c.MaxReplayBytes, defaultMaxReplayBytes),
		em:             emitter{Policy: "resiliencegrpc", Name: c.Name, Observer: c.Observer},
	}
	switch {
	case c.PerMethod != nil:
		cl.methods = newMethods(c.PerMethod, cmp.Or(c.MaxMethods, defaultMaxMethods))
	case cl.shared == nil:
		cl.shared = retry.New(retry.Config{})
	}
	return cl
}

// policy returns the policy of method.
func (cl *client) policy(method string) (resilience.Policy, error) {
	if cl.shared != nil {
		return cl.shared, nil
	}
	p := cl.methods.policy(method)
	if p == nil {
		return nil, resilience.Permanent(fmt.Errorf("resiliencegrpc: PerMethod(%q): %w", method, resilience.ErrNilPolicy))
	}
	return p, nil
}

// idempotentMethod reports whether method is declared idempotent
// (Config.Idempotent). A call asks it once.
func (cl *client) idempotentMethod(method string) bool {
	return cl.idempotent != nil && cl.idempotent(method)
}

// hedgeable returns ctx, or ctx under hedge.WithoutHedges when the call's
// method is not declared idempotent.
func hedgeable(ctx context.Context, idempotent bool) context.Context {
	if idempotent {
		return ctx
	}
	return hedge.WithoutHedges(ctx)
}

// withKey returns ctx with the idempotency key it carries (idempotency.WithKey)
// added to its outgoing metadata, and whether it has one. A key that
// metadata cannot carry (empty is no key; longer than
// idempotency.MaxKeyLen bytes, or with a byte outside printable ASCII) is
// refused: the error matches idempotency.ErrInvalidKey and is permanent.
// Metadata the caller set under the key's name is left as it is, and
// counts as the call's key; withKey looks for it only when ctx has a key of
// idempotency.WithKey, because reading outgoing metadata copies all of it.
// A call without one that needs to know asks keyMetadata.
func withKey(ctx context.Context) (context.Context, bool, error) {
	key, ok := idempotency.KeyFrom(ctx)
	if !ok {
		return ctx, false, nil
	}
	if keyMetadata(ctx) {
		return ctx, true, nil
	}
	if err := checkKey(key); err != nil {
		return ctx, false, resilience.Permanent(err)
	}
	return metadata.AppendToOutgoingContext(ctx, KeyMetadata, key), true, nil
}

// keyMetadata reports whether ctx's outgoing metadata carries an
// idempotency key the caller set there. It copies the metadata: a unary
// call asks only once an attempt has failed.
func keyMetadata(ctx context.Context) bool {
	md, _ := metadata.FromOutgoingContext(ctx)
	return len(md[KeyMetadata]) > 0
}

// checkKey returns an error matching idempotency.ErrInvalidKey for a key
// that a metadata value cannot carry or a store would refuse.
func checkKey(key string) error {
	if err := idempotency.ValidateKey(key); err != nil {
		return fmt.Errorf("resiliencegrpc: %w", err)
	}
	for i := range len(key) {
		if c := key[i]; c < ' ' || c > '~' {
			return fmt.Errorf("resiliencegrpc: %w: byte %#02x at %d is not printable ASCII", idempotency.ErrInvalidKey, c, i)
		}
	}
	return nil
}
