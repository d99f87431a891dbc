package patchgate

import "testing"

func TestHeadTrustTrusted(t *testing.T) {
	rms := []string{"alice"}
	tests := []struct {
		name string
		head HeadTrust
		want bool
	}{
		{"push, no trusted users", HeadTrust{Kind: ChangePush, Author: "mallory", ReleaseManagers: rms}, true},
		{"push by an untrusted pusher", HeadTrust{Kind: ChangePush, Author: "mallory", TrustedUsers: []string{"bob"}, ReleaseManagers: rms}, false},
		{"push by a trusted user", HeadTrust{Kind: ChangePush, Author: "Bob", TrustedUsers: []string{"bob"}, ReleaseManagers: rms}, true},
		{"push by a release manager", HeadTrust{Kind: ChangePush, Author: "alice", TrustedUsers: []string{"bob"}, ReleaseManagers: rms}, true},
		{"push by nobody known", HeadTrust{Kind: ChangePush, TrustedUsers: []string{"bob"}, ReleaseManagers: rms}, false},
		{"PR, no trusted users", HeadTrust{Kind: ChangePullRequest, Author: "mallory"}, true},
		{"PR by an untrusted author", HeadTrust{Kind: ChangePullRequest, Author: "mallory", TrustedUsers: []string{"bob"}}, false},
		{"PR by a trusted user", HeadTrust{Kind: ChangePullRequest, Author: "bob", TrustedUsers: []string{"bob"}}, true},
		{"PR from a fork by a release manager", HeadTrust{Kind: ChangePullRequest, FromFork: true, Author: "alice", ReleaseManagers: rms}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.head.Trusted(); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}
