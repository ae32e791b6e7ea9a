package contract

import (
	"fmt"
	"strings"
	"testing"
)

func TestCheckGA4Event(t *testing.T) {
	t.Parallel()
	many := map[string]any{}
	for i := range 26 {
		many[fmt.Sprintf("p%d", i)] = int64(i)
	}
	tests := []struct {
		name    string
		event   Event
		wantErr string
	}{
		{"valid", Event{Name: Cluster, Params: map[string]any{"version": "6.8.0", "node_number": int64(2)}}, ""},
		{"nil params", Event{Name: HTTPAPI}, ""},
		{"100 characters", Event{Name: "e", Params: map[string]any{"v": strings.Repeat("é", 100)}}, ""},
		{"40 character name", Event{Name: strings.Repeat("e", 40)}, ""},
		{"empty name", Event{}, "is empty"},
		{"dash", Event{Name: "bad-name"}, "must start with a letter"},
		{"digit first", Event{Name: "1st"}, "must start with a letter"},
		{"41 characters", Event{Name: strings.Repeat("e", 41)}, "longer than 40 characters"},
		{"reserved name", Event{Name: "session_start"}, "reserved"},
		{"reserved prefix", Event{Name: "firebase_x"}, "reserved prefix"},
		{"reserved prefix any case", Event{Name: "Google_x"}, "reserved prefix"},
		{"26 params", Event{Name: "e", Params: many}, "26 params"},
		{"bad param name", Event{Name: "e", Params: map[string]any{"mod.x": "a"}}, `param name "mod.x"`},
		{"reserved param prefix", Event{Name: "e", Params: map[string]any{"ga_session": "a"}}, "reserved prefix"},
		{"101 characters", Event{Name: "e", Params: map[string]any{"v": strings.Repeat("x", 101)}}, "101 characters"},
		{"bool", Event{Name: "e", Params: map[string]any{"v": true}}, "type bool"},
		{"nil value", Event{Name: "e", Params: map[string]any{"v": nil}}, "type <nil>"},
		{"tuple-like", Event{Name: "e", Params: map[string]any{"v": []any{"a"}}}, "only strings and numbers"},
	}
	for _, tc := range tests {
		err := CheckGA4Event(tc.event)
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s: unexpected error %v", tc.name, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s: error %v, want it to contain %q", tc.name, err, tc.wantErr)
		}
	}
}
