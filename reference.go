package patchgate

// LinkKind says whether a change claims to fix a ticket or only mentions it.
type LinkKind string

// Link kinds. A closing keyword ("Fixes #45") makes a "fixes" link; a bare mention
// makes "relates".
const (
	LinkFixes   LinkKind = "fixes"
	LinkRelates LinkKind = "relates"
)

// Validate reports whether k is a known link kind.
func (k LinkKind) Validate() error {
	switch k {
	case LinkFixes, LinkRelates:
		return nil
	}
	return Errorf(EINVALID, "unknown link kind %q (want fixes or relates)", string(k))
}

// LinkSource says where a link came from, so the UI can say why it exists.
type LinkSource string

// Link sources.
const (
	SourceTitle         LinkSource = "title"
	SourceBody          LinkSource = "body"
	SourceBranch        LinkSource = "branch"
	SourceCommitMessage LinkSource = "commit_message"
	SourceManual        LinkSource = "manual"
)

// Reference is one ticket reference found in text by the tickets package.
type Reference struct {
	Tracker Tracker  `json:"tracker"`
	Key     string   `json:"key"`              // canonical: "PAY-123" or "acme/payments#45"
	Repo    string   `json:"repo,omitempty"`   // forge issues: the repository
	Number  int      `json:"number,omitempty"` // forge issues: the issue number
	Kind    LinkKind `json:"kind"`
	// Text is the exact text that matched, e.g. "Fixes #45", for provenance.
	Text string `json:"text"`
}

// ReferenceContext tells the extractor what the text belongs to: which forge and
// repository ("#45" means an issue of this repository), which external key prefixes
// are configured, and which forge hosts' issue URLs count.
type ReferenceContext struct {
	Forge Forge
	Repo  string
	// Keys are the configured external ticket key prefixes, e.g. ["PAY", "OPS"].
	Keys []string
	// Hosts are the web hosts of the configured forges ("github.com",
	// "gitlab.example.com:8443"); issue URLs on other hosts are ignored.
	Hosts []string
	// TitlePrefixFixes: a title that starts with a reference ("PAY-7: fix
	// rounding") claims to fix that ticket.
	TitlePrefixFixes bool
}
