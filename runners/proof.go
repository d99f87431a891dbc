package runners

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/patchgate/patchgate"
)

// runProof runs the verification's fail-to-pass proof when its change fixes
// a ticket: the changed tests on the base with the change's test files
// overlaid (the fix left out), then on the head, each in a fresh environment
// of the proof suite. The proof is stored and reported as patchgate/proof
// whatever it shows; an infrastructure fault is a proof in state error, never
// a verdict on the fix.
func (r *Executor) runProof(ctx context.Context, v *patchgate.Verification, log *slog.Logger) {
	if r.Planner == nil || r.Proofs == nil {
		return
	}
	plan, err := r.Planner.ProofPlan(ctx, v)
	if patchgate.ErrorCode(err) == patchgate.ENOTFOUND {
		log.Debug("no proof to run", "reason", patchgate.ErrorMessage(err))
		return
	}
	var p patchgate.Proof
	if err != nil {
		log.Warn("proof could not be planned", "err", err)
		p = patchgate.Proof{State: patchgate.ProofError, Description: "could not plan the proof: " + patchgate.ErrorMessage(err), Tests: []patchgate.ProofRecord{}}
	} else {
		p = r.prove(ctx, v, plan, log)
		p.BaseSHA, p.RequireProof = plan.BaseSHA, plan.RequireProof
	}
	if ctx.Err() != nil {
		return // superseded: the proof says nothing about the new head
	}
	p.VerificationID, p.CreatedAt = v.ID, time.Now().UTC()
	saveCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	if err := r.Proofs.SaveProof(saveCtx, &p); err != nil {
		log.Error("record proof", "err", err)
		return
	}
	r.Reporter.Proof(saveCtx, v, &p)
	log.Info("proof", "state", p.State, "description", p.Description)
}

// prove runs the tests on both sides and judges them.
func (r *Executor) prove(ctx context.Context, v *patchgate.Verification, plan *patchgate.ProofPlan, log *slog.Logger) patchgate.Proof {
	// Nothing left to run (no changed test, or all quarantined) is no proof:
	// the evaluation says so without results.
	if pre := patchgate.EvaluateProof(plan.Tests, nil, nil, plan.Excluded); pre.State == patchgate.ProofNone {
		return pre
	}
	repo := patchgate.RepoRef{Forge: v.Forge, Name: v.Repo}
	base, err := r.proofSide(ctx, v, plan, "base", func(ctx context.Context) (io.ReadCloser, error) {
		src, err := r.Source(ctx, repo, plan.BaseSHA)
		if err != nil {
			return nil, err
		}
		return OverlayTree(src, plan.Overlay), nil
	}, log)
	if err != nil {
		return proofError(plan, "could not run the tests without the fix: "+err.Error())
	}
	head, err := r.proofSide(ctx, v, plan, "head", func(ctx context.Context) (io.ReadCloser, error) {
		return r.Source(ctx, repo, v.SHA)
	}, log)
	if err != nil {
		return proofError(plan, "could not run the tests with the fix: "+err.Error())
	}
	return patchgate.EvaluateProof(plan.Tests, base, head, plan.Excluded)
}

func proofError(plan *patchgate.ProofPlan, why string) patchgate.Proof {
	p := patchgate.Proof{State: patchgate.ProofError, Description: why, Tests: []patchgate.ProofRecord{}}
	for _, t := range plan.Tests {
		p.Tests = append(p.Tests, patchgate.ProofRecord{ProofTest: t, Base: patchgate.ProofMissing, Head: patchgate.ProofMissing, Verdict: "did not run"})
	}
	return p
}

// proofSide runs the proof command on one side and returns the test results
// it reported (from its JUnit report, else from its log). A timeout or an
// out-of-memory kill is an error: it judges nothing.
func (r *Executor) proofSide(ctx context.Context, v *patchgate.Verification, plan *patchgate.ProofPlan, side string,
	source func(context.Context) (io.ReadCloser, error), log *slog.Logger) ([]patchgate.TestResult, error) {
	spec := plan.Suite.Spec
	spec.RunID = fmt.Sprintf("%d-%d-proof-%s", v.ID, v.Attempt, side)
	spec.Owner = r.Owner
	spec.Secrets = slices.Concat(spec.Secrets, r.Secrets)
	spec.Source = source
	var tests TestLog
	res, _, err := r.runWithRetries(ctx, spec, &tests, log.With("proof_side", side))
	switch {
	case err != nil:
		return nil, err
	case res.TimedOut:
		return nil, errors.New("timed out")
	case res.OOMKilled:
		return nil, errors.New("killed: out of memory")
	}
	if res.JUnit != nil {
		report, err := ParseJUnit(res.JUnit)
		if err != nil {
			return nil, fmt.Errorf("unreadable JUnit report: %w", err)
		}
		return report.Tests, nil
	}
	return tests.Report().Tests, nil
}

// OverlayTree streams the plain tar src with files replaced: each path in
// overlay gets the given content (nil removes it). Directories that a new
// file needs are added. Closing the result closes src.
func OverlayTree(src io.ReadCloser, overlay map[string][]byte) io.ReadCloser {
	pr, pw := io.Pipe()
	go func() { // owned by the reader: it ends when the stream is read or closed
		pw.CloseWithError(overlayTar(src, pw, overlay))
		src.Close()
	}()
	return &overlayReader{PipeReader: pr, src: src}
}

type overlayReader struct {
	*io.PipeReader
	src io.Closer
}

func (o *overlayReader) Close() error {
	o.PipeReader.Close()
	return o.src.Close()
}

func overlayTar(src io.Reader, dst io.Writer, overlay map[string][]byte) error {
	tr, tw := tar.NewReader(src), tar.NewWriter(dst)
	dirs := map[string]bool{".": true}
	var mtime time.Time
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("read source tree: %w", err)
		}
		name := strings.TrimSuffix(path.Clean(strings.TrimPrefix(h.Name, "./")), "/")
		if h.Typeflag == tar.TypeDir {
			dirs[name] = true
		}
		if h.ModTime.After(mtime) {
			mtime = h.ModTime
		}
		if _, replaced := overlay[name]; replaced && h.Typeflag != tar.TypeDir {
			continue
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if _, err := io.Copy(tw, tr); err != nil {
			return fmt.Errorf("copy %s: %w", h.Name, err)
		}
	}
	names := make([]string, 0, len(overlay))
	for name, data := range overlay {
		if data != nil {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		var parents []string
		for d := path.Dir(name); !dirs[d]; d = path.Dir(d) {
			parents = append(parents, d)
			dirs[d] = true
		}
		for i := len(parents) - 1; i >= 0; i-- {
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: parents[i] + "/", Mode: 0o755, ModTime: mtime}); err != nil {
				return err
			}
		}
		data := overlay[name]
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(data)), ModTime: mtime}); err != nil {
			return err
		}
		if _, err := tw.Write(data); err != nil {
			return err
		}
	}
	return tw.Close()
}
