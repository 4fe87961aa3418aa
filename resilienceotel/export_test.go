package resilienceotel

// MaxCached is maxCached, for the tests.
const MaxCached = maxCached

// Cached reports how many combinations o keeps attributes for.
func (o *Observer) Cached() int { return len(*o.cached.Load()) }
