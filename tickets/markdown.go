package tickets

import "bytes"

// maskMarkdown zeroes, in place, the parts of a Markdown text whose references
// the author does not mean: fenced code blocks (``` or ~~~, indented at most three
// spaces; an unclosed fence runs to the end, as GitHub renders it), inline code
// spans within a paragraph, HTML comments (where PR templates keep "Fixes #123"
// as an example) and quoted lines ("> Fixes #1" quotes someone else). Zero bytes
// are neither words nor whitespace, so a masked part also breaks a keyword list.
// Indented code blocks are not masked: in commit messages indentation means
// nothing. Every byte is looked at a constant number of times.
func maskMarkdown(m []byte) {
	var (
		fenceChar  byte
		fenceLen   int  // > 0 inside a fenced block
		inComment  bool // inside an HTML comment block
		paraStart  = -1
		paraEnd    int
		codeSpans  spanMasker
		flushParas = func() {
			if paraStart >= 0 {
				codeSpans.mask(m[paraStart:paraEnd])
				paraStart = -1
			}
		}
	)
	for start := 0; start < len(m); {
		end := bytes.IndexByte(m[start:], '\n')
		if end < 0 {
			end = len(m)
		} else {
			end += start
		}
		line := m[start:end]
		switch {
		case fenceLen > 0:
			if closesFence(line, fenceChar, fenceLen) {
				fenceLen = 0
			}
			clear(line)
		case inComment:
			inComment = bytes.Index(line, []byte("-->")) < 0
			clear(line)
		default:
			body := line[indent(line):]
			if c, n := opensFence(body); n > 0 {
				flushParas()
				fenceChar, fenceLen = c, n
				clear(line)
			} else if bytes.HasPrefix(body, []byte("<!--")) {
				// An HTML block runs to the line holding "-->", or to the end.
				flushParas()
				inComment = bytes.Index(body[4:], []byte("-->")) < 0
				clear(line)
			} else if len(body) > 0 && body[0] == '>' {
				flushParas()
				clear(line)
			} else if len(bytes.TrimSpace(line)) == 0 {
				flushParas()
			} else {
				if paraStart < 0 {
					paraStart = start
				}
				paraEnd = end
			}
		}
		start = end + 1
	}
	flushParas()
	maskInlineComments(m)
}

// indent returns the length of up to three leading spaces: four make an indented
// code block in CommonMark, which is neither a fence nor a quote.
func indent(line []byte) int {
	i := 0
	for i < 3 && i < len(line) && line[i] == ' ' {
		i++
	}
	return i
}

// opensFence returns the fence character and length when body opens a fenced
// block. A backtick fence's info string may not hold a backtick, else the line is
// inline code ("```x```").
func opensFence(body []byte) (byte, int) {
	if len(body) < 3 || body[0] != '`' && body[0] != '~' {
		return 0, 0
	}
	c := body[0]
	n := 0
	for n < len(body) && body[n] == c {
		n++
	}
	if n < 3 || c == '`' && bytes.IndexByte(body[n:], '`') >= 0 {
		return 0, 0
	}
	return c, n
}

// closesFence reports whether line closes a fence of n c's: at least as long,
// nothing but whitespace after it.
func closesFence(line []byte, c byte, n int) bool {
	body := line[indent(line):]
	k := 0
	for k < len(body) && body[k] == c {
		k++
	}
	return k >= n && len(bytes.TrimSpace(body[k:])) == 0
}

// spanMasker masks inline code spans; it keeps its scratch space between
// paragraphs.
type spanMasker struct {
	runs []backtickRun
	next []int
	last map[int]int
}

type backtickRun struct{ pos, n int }

// mask zeroes the code spans of one paragraph. A span opens with a run of n
// backticks and closes at the next run of exactly n; a run without a partner is
// literal. Each run's partner is precomputed, so adversarial runs of many
// lengths stay linear.
func (s *spanMasker) mask(p []byte) {
	if bytes.IndexByte(p, '`') < 0 {
		return
	}
	s.runs = s.runs[:0]
	for i := 0; i < len(p); {
		if p[i] != '`' {
			i++
			continue
		}
		j := i
		for j < len(p) && p[j] == '`' {
			j++
		}
		s.runs = append(s.runs, backtickRun{i, j - i})
		i = j
	}
	if s.last == nil {
		s.last = make(map[int]int)
	}
	clear(s.last)
	s.next = s.next[:0]
	for range s.runs {
		s.next = append(s.next, -1)
	}
	for k := len(s.runs) - 1; k >= 0; k-- {
		if j, ok := s.last[s.runs[k].n]; ok {
			s.next[k] = j
		}
		s.last[s.runs[k].n] = k
	}
	for k := 0; k < len(s.runs); {
		j := s.next[k]
		if j < 0 {
			k++
			continue
		}
		clear(p[s.runs[k].pos : s.runs[j].pos+s.runs[j].n])
		k = j + 1
	}
}

// maskInlineComments zeroes "<!-- ... -->" inside lines; an unclosed one is
// left as text, as Markdown renders it.
func maskInlineComments(m []byte) {
	for i := 0; ; {
		a := bytes.Index(m[i:], []byte("<!--"))
		if a < 0 {
			return
		}
		a += i
		b := bytes.Index(m[a+4:], []byte("-->"))
		if b < 0 {
			return
		}
		i = a + 4 + b + 3
		clear(m[a:i])
	}
}
