package patchgate

// ShortSHA is a commit SHA as people write it: its first seven characters.
func ShortSHA(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}
