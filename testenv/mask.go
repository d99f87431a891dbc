package testenv

import (
	"bytes"
	"cmp"
	"io"
	"slices"
	"sync"
)

// maskText replaces each secret in a log.
const maskText = "***"

// maskingWriter replaces secrets in a byte stream. A secret may arrive split
// across writes, so bytes that could still start a secret are held back until
// the next write decides (at most len(longest form)-1 of them, a form being
// at most three times its secret's length) or Close.
type maskingWriter struct {
	mu sync.Mutex
	w  io.Writer
	// byFirst holds the forms to mask by their first byte, longest first: at
	// one position the longest match wins. A log position is compared only
	// with the forms that can start there, which keeps a dozen forms per
	// secret cheap.
	byFirst [256][][]byte
	any     bool
	pending []byte
	out     []byte
}

// NewMaskingWriter returns a writer that passes everything written to it on to
// w with every occurrence of each non-empty secret, and of each of its encoded
// forms (SecretForms), replaced by "***". At one position the longest matching
// form wins, and replaced text is not scanned again, so the output equals
// strings.NewReplacer(form, "***", ...) applied to the concatenation of all
// writes, forms ordered longest first. Close flushes the bytes held back in
// case a form continued; it does not close w. It is safe for concurrent use.
func NewMaskingWriter(w io.Writer, secrets []string) io.WriteCloser {
	m := &maskingWriter{w: w}
	var forms []string
	for _, s := range secrets {
		for _, f := range SecretForms(s) {
			if !slices.Contains(forms, f) {
				forms = append(forms, f)
			}
		}
	}
	slices.SortStableFunc(forms, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	for _, f := range forms {
		m.byFirst[f[0]] = append(m.byFirst[f[0]], []byte(f))
		m.any = true
	}
	return m
}

// Write masks p and writes every byte that can no longer be part of a secret.
func (m *maskingWriter) Write(p []byte) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.any {
		return m.w.Write(p)
	}
	m.pending = append(m.pending, p...)
	n := m.scan(false)
	m.pending = m.pending[:copy(m.pending, m.pending[n:])]
	if err := m.flush(); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Close writes the held-back bytes unmasked: the stream ended before they could
// complete a secret.
func (m *maskingWriter) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.any {
		return nil
	}
	n := m.scan(true)
	m.pending = m.pending[:copy(m.pending, m.pending[n:])]
	return m.flush()
}

// scan appends the masked form of m.pending to m.out as far as it is decided
// and returns how many pending bytes it consumed. With final set, a secret cut
// off by the end of the data is no longer possible.
func (m *maskingWriter) scan(final bool) int {
	buf := m.pending
	start := 0 // first byte not yet copied to out
	i := 0
scan:
	for i < len(buf) {
		rest := buf[i:]
		for _, s := range m.byFirst[buf[i]] {
			switch {
			case bytes.HasPrefix(rest, s):
				m.out = append(m.out, buf[start:i]...)
				m.out = append(m.out, maskText...)
				i += len(s)
				start = i
				continue scan
			case !final && len(rest) < len(s) && bytes.HasPrefix(s, rest):
				// A longer secret may still complete here: decide on the next write.
				break scan
			}
		}
		i++
	}
	m.out = append(m.out, buf[start:i]...)
	return i
}

func (m *maskingWriter) flush() error {
	if len(m.out) == 0 {
		return nil
	}
	_, err := m.w.Write(m.out)
	m.out = m.out[:0]
	return err
}
