// Package storetest is the contract suite every [idempotency.Store] must
// pass. A store's own tests call [Run] with a constructor:
//
//	func TestContract(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) idempotency.Store { return newStore(t) })
//	}
//
// The suite checks every rule of the Store documentation: the state machine,
// compare-and-set ownership, every method re-sent (as a client library does
// after a dropped connection) getting the answer of its first send, a claim
// whose reply was lost owned at once by its claimer, fences that strictly
// increase across takeovers and releases, deadline boundaries, key, token,
// fingerprint and duration validation, result limits, races between
// concurrent claimers (100 claimers on one key, takeovers of an expired
// record, a late Complete racing a takeover), and [idempotency.Do] taking
// over the key of an owner that died.
//
// [RunReplicas] and [RunOutage] go further, for stores that processes
// share: replicas of an HTTP service over one store, and an outage of the
// store's server.
//
// It runs against real clocks, for stores whose time comes from a server
// (Redis, PostgreSQL): it waits for deadlines to pass with short leases, so a
// run takes a few seconds and its subtests run in parallel. A store that
// reads time.Now (the memory store) passes [FakeTime] instead: every subtest
// runs inside a testing/synctest bubble, takes no real time, and checks the
// deadline boundaries to the nanosecond.
package storetest

import (
	"crypto/rand"
	"encoding/hex"
	"testing"
	"testing/synctest"
	"time"

	"github.com/magicmagnets/resilience/idempotency"
)

// NewStore returns the store a subtest runs against. It is called once per
// subtest, inside the synctest bubble under [FakeTime]. Subtests use keys
// unique to them, so the stores may share one server; use t.Cleanup to close
// what it opens.
type NewStore func(t *testing.T) idempotency.Store

// Option adjusts how [Run] exercises a store.
type Option func(*config)

type config struct {
	fake          bool
	lease         time.Duration
	resolution    time.Duration
	maxResultSize int
	storedFence   func(t *testing.T, key string) int64
}

// FakeTime declares that the store takes its time from time.Now in the
// calling process, so the suite can run each subtest in a synctest bubble
// and check the exact deadline boundaries.
func FakeTime() Option { return func(c *config) { c.fake = true } }

// Lease sets the lease and retention the suite waits out with real clocks.
// The default, 250ms, suits a store on the same host; raise it for a remote
// server whose round trip is more than a few milliseconds.
func Lease(d time.Duration) Option { return func(c *config) { c.lease = d } }

// Resolution declares the granularity of the store's clock, added to every
// real-time wait for a deadline to pass. The default is a millisecond (Redis
// deadlines are in milliseconds).
func Resolution(d time.Duration) Option { return func(c *config) { c.resolution = d } }

// MaxResultSize declares the store's result limit in bytes. The default is
// idempotency.DefaultMaxResultSize.
func MaxResultSize(n int) Option { return func(c *config) { c.maxResultSize = n } }

// StoredFence gives the suite a way to read, from the server and not
// through the store, the fence the store keeps for key. The suite then
// checks that a takeover's record holds the fence its claim returned;
// without it, it checks the returned fences only.
func StoredFence(read func(t *testing.T, key string) int64) Option {
	return func(c *config) { c.storedFence = read }
}

// Run runs the contract suite against the stores newStore returns, one
// subtest per rule.
func Run(t *testing.T, newStore NewStore, opts ...Option) {
	c := config{lease: 250 * time.Millisecond, resolution: time.Millisecond, maxResultSize: idempotency.DefaultMaxResultSize}
	for _, o := range opts {
		o(&c)
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
	s      idempotency.Store
	prefix string
}

func newEnv(t *testing.T, c config, newStore NewStore) *env {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return &env{config: c, s: newStore(t), prefix: "storetest:" + hex.EncodeToString(b[:]) + ":" + t.Name() + ":"}
}

// key returns a key unique to this subtest.
func (e *env) key(name string) string { return e.prefix + name }

// waitPast returns once a deadline of d counted from a store call that
// returned at start has certainly passed on the store's clock. With fake time
// that is exactly start+d.
func (e *env) waitPast(start time.Time, d time.Duration) {
	if e.fake {
		time.Sleep(time.Until(start.Add(d)))
		return
	}
	time.Sleep(time.Until(start.Add(d + e.resolution)))
}

// case_ is one rule of the contract.
type case_ struct {
	name string
	run  func(t *testing.T, e *env)
}

// cases lists every rule, in the order the Store documentation gives them.
var cases = []case_{
	{"ClaimOnAbsentKeyAcquiresWithFenceOne", claimAbsent},
	{"ClaimOnLiveLeaseReportsInProgressWithRemaining", claimInProgress},
	{"ClaimWithDifferentFingerprintReportsMismatch", claimMismatch},
	{"ClaimOnCompletedKeyReplaysResult", claimReplay},
	{"CompleteKeepsItsOwnCopyOfResult", completeCopies},
	{"EmptyResultReplaysAsEmpty", emptyResult},
	{"ExpiredLeaseIsTakenOverWithNextFence", takeover},
	{"LeaseExpiresAtItsDeadline", leaseBoundary},
	{"RetentionExpiresAtItsDeadline", retentionBoundary},
	{"CompleteAfterLeasePassedSucceedsIfNotTakenOver", lateComplete},
	{"StaleOwnerCannotCompleteReleaseOrExtend", staleOwner},
	{"ReleaseMakesKeyAbsentAndKeepsItsFence", release},
	{"CompletedRecordRefusesReleaseAndKeepsItsResult", completedRefusesRelease},
	{"ForeignLocksAreRejected", foreignLocks},
	{"ExtendKeepsLeaseAlive", extend},
	{"ReSentClaimAcquiresAgainWithTheSameLock", reSentClaim},
	{"ReClaimByTheOwnerRenewsTheLease", reClaimRenews},
	{"ReClaimAfterTheLeasePassedAcquiresAgainIfNotTakenOver", reClaimExpired},
	{"ReSentClaimOfACompletedKeyReplays", reSentClaimCompleted},
	{"ClaimWhoseReplyWasLostIsOwnedAtOnceByItsClaimer", orphanedClaim},
	{"ReSentCompleteSucceedsAndChangesNothing", reSentComplete},
	{"ReSentReleaseSucceedsAndChangesNothing", reSentRelease},
	{"ExtendAfterCompleteSucceedsAndChangesNothing", extendAfterComplete},
	{"MismatchIsCheckedBeforeTheTokenRule", mismatchBeforeToken},
	{"InvalidKeysAreRejected", invalidKeys},
	{"InvalidTokensAreRejectedAndNothingIsStored", invalidTokens},
	{"AnyKeyBytesAreDistinct", binaryKeys},
	{"FingerprintsAreComparedAsExactBytes", binaryFingerprints},
	{"NonPositiveDurationsAreRejected", invalidDurations},
	{"LongestDurationsMeanNever", longestDurations},
	{"OversizedResultIsRejectedAndKeyStaysInProgress", oversized},
	{"OneOfManyConcurrentClaimersWins", concurrentClaim},
	{"OneOfManyConcurrentTakeoversWins", concurrentTakeover},
	{"LateCompleteRacingTakeoverHasOneWinner", lateCompleteRace},
	{"FenceIncreasesWithEveryTakeover", fenceIncreases},
	{"FenceIncreasesAcrossReleases", fenceAcrossReleases},
	{"FenceAfterRetentionEndsIsOneOrTheNext", fenceAfterRetention},
	{"KeyOfADeadOwnerRunsAgainOnlyAfterItsLeaseWithTheNextFence", deadOwner},
}
