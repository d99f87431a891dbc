package patchgate

// TicketSLAPolicy returns the policy that governs t: that of the configured
// repository claiming it (RepositoryDirectory.SLAPolicyFor), else, for an
// external ticket no repository claims, the default targets when its key is
// held by a synced tracker (a Jira project no repository lists among its
// ticket keys) or when it was classified — a severity other than unknown and
// an opening time, which only a tracker or the ticket API (`patchgate ticket
// set`) gives — since such a ticket is a bug someone reported with an SLA in
// mind. tracked reports whether a synced tracker holds a key; nil means none
// does. The result is nil, no SLA, when nothing claims t.
func TicketSLAPolicy(d *RepositoryDirectory, t *Ticket, tracked func(key string) bool) SLAPolicy {
	policy := d.SLAPolicyFor(t)
	if policy != nil || t.Tracker != TrackerExternal {
		return policy
	}
	classified := t.Severity != SeverityUnknown && t.Severity != "" && !t.OpenedAt.IsZero()
	if classified || tracked != nil && tracked(t.Key) {
		return DefaultSLAPolicy()
	}
	return nil
}
