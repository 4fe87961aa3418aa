// Package storetest is the contract suite every [ratelimit.Store] must
// pass. A store's own tests call [Run] with a constructor:
//
//	func TestContract(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) ratelimit.Store { return newStore(t) })
//	}
//
// The suite checks every rule of the Store documentation: a fresh key's
// burst and the refusal after it with the time until the next token, the
// refill over time, a denial that spends nothing, Takes of several tokens,
// more tokens than the burst (an error), keys that are independent however
// alike their bytes, invalid keys and limits (errors that change nothing),
// concurrent takers that never get more than the limit allows over the
// window, a context that has ended, and extreme limits (durations of
// math.MaxInt64, rates of 1e-9 and 1e300) that must not overflow.
//
// It runs against real clocks, for stores whose time comes from a server
// (Redis TIME): it waits for tokens with limits of a few tokens a second
// and checks times within the slack the waits explain, so a run takes
// about a second and its subtests run in parallel. A store that reads
// time.Now (the memory store) passes [FakeTime] instead: every subtest then
// runs inside a testing/synctest bubble, takes no real time, and checks the
// times exactly.
package storetest

import (
	"crypto/rand"
	"encoding/hex"
	"testing"
	"testing/synctest"
	"time"

	"github.com/magicmagnets/resilience/ratelimit"
)

// NewStore returns the store a subtest runs against. It is called once per
// subtest, inside the synctest bubble under [FakeTime]. Subtests use keys
// unique to them, so the stores may share one server; use t.Cleanup to close
// what it opens.
type NewStore func(t *testing.T) ratelimit.Store

// Option adjusts how [Run] exercises a store.
type Option func(*config)

type config struct {
	fake       bool
	resolution time.Duration
}

// FakeTime declares that the store takes its time from time.Now in the
// calling process, so the suite can run each subtest in a synctest bubble
// and check every time exactly.
func FakeTime() Option { return func(c *config) { c.fake = true } }

// Resolution declares the granularity of the store's clock, allowed as
// slack on every time the suite checks with real clocks. The default is a
// millisecond; Redis's TIME has a microsecond.
func Resolution(d time.Duration) Option { return func(c *config) { c.resolution = d } }

// Run runs the contract suite against the stores newStore returns, one
// subtest per rule.
func Run(t *testing.T, newStore NewStore, opts ...Option) {
	c := config{resolution: time.Millisecond}
	for _, o := range opts {
		o(&c)
	}
	if c.fake {
		c.resolution = 0
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if c.fake {
				synctest.Test(t, func(t *testing.T) { tc.run(t, newEnv(t, c, newStore)) })
				return
			}
			t.Parallel()
			tc.run(t, newEnv(t, c, newStore))
		})
	}
}

// env is what one subtest works with.
type env struct {
	config
	s      ratelimit.Store
	prefix string
}

func newEnv(t *testing.T, c config, newStore NewStore) *env {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return &env{config: c, s: newStore(t), prefix: "storetest:" + hex.EncodeToString(b[:]) + ":" + t.Name() + ":"}
}

// key returns a key unique to this subtest.
func (e *env) key(name string) string { return e.prefix + name }

// case_ is one rule of the contract.
type case_ struct {
	name string
	run  func(t *testing.T, e *env)
}

// cases lists every rule, in the order the Store documentation gives them.
var cases = []case_{
	{"FreshKeyAdmitsItsBurstThenRefusesWithTheTimeToTheNextToken", burstThenRefusal},
	{"TokensComeBackOneEmissionIntervalApart", refill},
	{"BucketIsFullAgainAfterResetAfter", resetAfter},
	{"DenialSpendsNothing", denialSpendsNothing},
	{"TakeOfSeveralTokensNeedsThemAll", severalTokens},
	{"TakeOfMoreThanTheBurstIsAnErrorAndChangesNothing", moreThanBurst},
	{"ZeroPerAndBurstMeanOneSecondAndOne", zeroLimitFields},
	{"KeysAreIndependent", independentKeys},
	{"AnyKeyBytesAreDistinct", oddKeys},
	{"InvalidKeysAreRejected", invalidKeys},
	{"InvalidLimitsAreRejectedAndChangeNothing", invalidLimits},
	{"ConcurrentTakersGetNoMoreThanTheLimit", concurrentTakers},
	{"EndedContextIsAnErrorAndChangesNothing", endedContext},
	{"ExtremeLimitsDoNotOverflow", extremeLimits},
}
