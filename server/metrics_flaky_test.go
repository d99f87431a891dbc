package server_test

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/patchgate/patchgate"
	"github.com/patchgate/patchgate/server"
)

func TestObserveFlakyCountsByRepoAndTest(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := server.NewMetrics(reg)
	repo := patchgate.RepoRef{Forge: patchgate.GitHub, Name: "acme/payments"}
	m.ObserveFlaky(repo, []string{"TestA", "TestB"})
	m.ObserveFlaky(repo, []string{"TestA"})
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range families {
		if f.GetName() != "patchgate_flaky_tests_total" {
			continue
		}
		for _, metric := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range metric.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			got[labels["repo"]+" "+labels["test"]] = metric.GetCounter().GetValue()
		}
	}
	want := map[string]float64{"github:acme/payments TestA": 2, "github:acme/payments TestB": 1}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: got %v, want %v", k, got[k], v)
		}
	}
}
