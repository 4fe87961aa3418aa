package resiliencedebug

// Names reports how many (policy, name) pairs d keeps apart.
func (d *Dashboard) Names() int { return len(*d.series.Load()) }

// StreamWriteTimeout is streamWriteTimeout, for the tests.
const StreamWriteTimeout = streamWriteTimeout

// CSP is the page's Content-Security-Policy, for the tests.
var CSP = pageCSP
