package correlate

import (
	"strings"
	"testing"
	"time"
)

func TestDefaultSettingsAreValid(t *testing.T) {
	if err := DefaultSettings().Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
}

func TestSettingsValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Settings)
		want []string // substrings of the error, none = valid
	}{
		{"defaults", func(*Settings) {}, nil},
		{"zero evidence window is allowed", func(s *Settings) { s.EvidenceWindow = 0; s.CommitLookback = 0; s.MergeTolerance = 0 }, nil},
		{"one transition is not a flap", func(s *Settings) { s.FlapMin = 1 }, []string{"flap minimum 1"}},
		{"flap window", func(s *Settings) { s.FlapWindow = 0 }, []string{"flap window 0s"}},
		{"negative spans", func(s *Settings) {
			s.EvidenceWindow, s.CommitLookback, s.MergeTolerance = -time.Second, -time.Second, -time.Second
		}, []string{"evidence window -1s", "commit lookback -1s", "merge tolerance -1s"}},
		{"merge must not swallow flaps", func(s *Settings) { s.MergeTolerance = time.Hour }, []string{"shorter than the flap window"}},
		{"all errors at once", func(s *Settings) { s.FlapMin = 0; s.FlapWindow = -1 }, []string{"flap minimum 0", "flap window -1ns"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := DefaultSettings()
			tt.edit(&s)
			err := s.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate() = %q, want it to mention %q", err, w)
				}
			}
		})
	}
}

func TestSettingsEffectiveClamps(t *testing.T) {
	got := Settings{FlapMin: -3, FlapWindow: -1, EvidenceWindow: -1, CommitLookback: -1, MergeTolerance: -1}.effective()
	want := Settings{FlapMin: 2, FlapWindow: time.Hour}
	if got != want {
		t.Fatalf("effective() = %+v, want %+v", got, want)
	}
}
