package patchgate

// TicketSLAPolicy returns the policy that governs t: that of the configured
// repository claiming it (RepositoryDirectory.SLAPolicyFor), else, for an
// external ticket whose key a synced tracker holds (a Jira project no
// repository lists among its ticket keys), the default targets, since its
// tickets are bugs with an SLA. tracked reports whether a synced tracker holds
// a key; nil means none does. The result is nil, no SLA, when nothing claims t.
func TicketSLAPolicy(d *RepositoryDirectory, t *Ticket, tracked func(key string) bool) SLAPolicy {
	policy := d.SLAPolicyFor(t)
	if policy == nil && t.Tracker == TrackerExternal && tracked != nil && tracked(t.Key) {
		return DefaultSLAPolicy()
	}
	return policy
}
