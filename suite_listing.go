package patchgate

// ListsNoTests reports whether the suite ran to a verdict (success or
// failure) without listing a single test: its command's output named none
// (plain `go test ./...` prints packages, not tests) and it wrote no JUnit
// report. Its counts are then not "0 passed, 0 failed" but unknown, and a
// page should say how to make the run list them.
func (s *SuiteRun) ListsNoTests() bool {
	ran := s.State == RunSuccess || s.State == RunFailure
	return ran && s.Passed == 0 && s.Failed == 0 && s.Skipped == 0 && len(s.Tests) == 0
}

// HowToListTests is what a page says of a suite that ListsNoTests.
const HowToListTests = "this run does not list its tests, so they cannot be counted: run `go test -json ./...` (or `-v`), " +
	"or write a JUnit report and name it in the suite's `junit:` key"
