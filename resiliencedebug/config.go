package resiliencedebug

import (
	"errors"
	"net/http"
)

// Config configures a [Dashboard]. The zero value is a usable read-only
// dashboard: the page, the JSON snapshot and the event stream, no operator
// actions, at most 100 names.
type Config struct {
	// Actions enables the operator actions on registered breakers: force
	// open, disable (force closed) and reset, as POST requests from the
	// page's own origin. It requires Authorize. Zero means off: the action
	// endpoint answers 404 and the page shows no buttons.
	Actions bool

	// Authorize decides whether a request may run an action; it is called
	// for every action request that passed the method and same-origin
	// checks, and a false answers 403. Typical checks are an admin session
	// cookie or a loopback remote address. It must be set when Actions is;
	// it is not consulted for reading the page, the snapshot or the stream
	// (guard the admin mux for those). Zero means none, which is valid only
	// with Actions off.
	Authorize func(*http.Request) bool

	// MaxNames bounds how many (policy, name) pairs the dashboard keeps
	// apart. Events of further pairs are counted together in one entry named
	// "other", until a pair that is not registered and has had no event for
	// two minutes (its history is then all zeros) leaves and frees its
	// place. Registered policies always have their own entry and do not
	// count against the bound. Zero means 100.
	MaxNames int
}

// defaultMaxNames is MaxNames' default.
const defaultMaxNames = 100

// Validate reports what [New] would panic on: Actions without Authorize, or
// a negative MaxNames.
func (c Config) Validate() error {
	var errs []error
	if c.Actions && c.Authorize == nil {
		errs = append(errs, errors.New("resiliencedebug: Actions requires Authorize"))
	}
	if c.MaxNames < 0 {
		errs = append(errs, errors.New("resiliencedebug: MaxNames must not be negative"))
	}
	return errors.Join(errs...)
}
