package etf

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecode checks that Decode never panics and that what it decodes
// can be printed and compared. It is seeded with the corpus and the
// encodings of the tests.
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(corpusDir, "*.etf"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, b := range [][]byte{
		term(newFunExt), term(oldFunExt),
		term(tagV4Port, node, u64(1<<40), u32(7)),
		term(tagPid, node, u32(1), u32(2), 3),
		term(tagRef, node, u32(9), 1),
		term(tagNewRef, u16(3), node, 2, u32(1), u32(2), u32(3)),
		term(tagSmallAtom, 4, "caf\xe9"),
		term(oldFloat("1.50000000000000000000e+00")),
		term(tagList, u32(1), tagSmallInt, 1, tagString, u16(2), "ab"),
		compress(enc(tagList, u32(2), atomExt("a"), atomExt("b"), tagNil)),
	} {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		// With ElideDeep, and a small MaxDepth so that the fuzzer reaches
		// it: skipping never panics and agrees with decoding on where
		// the input is malformed.
		ve, eerr := DecodeLimits(b, Limits{MaxDepth: 3, ElideDeep: true})
		if eerr != nil && ve != nil {
			t.Fatalf("%#v with error %v", ve, eerr)
		}
		if eerr == nil {
			_ = Format(ve)
			if !Equal(ve, ve) {
				t.Fatalf("%s =/= itself", Format(ve))
			}
		}
		if _, serr := DecodeLimits(b, Limits{MaxDepth: 3}); serr == nil && eerr != nil {
			t.Fatalf("decodes within the depth limit but not with ElideDeep: %v", eerr)
		}
		v, err := Decode(b)
		if err != nil {
			if v != nil {
				t.Fatalf("%#v with error %v", v, err)
			}
			return
		}
		s := Format(v)
		if l := FormatLimit(v, 40); len(l) > 40 || (len(s) <= 40 && l != s) {
			t.Fatalf("FormatLimit(40) = %q, Format = %q", l, s)
		}
		if !Equal(v, v) {
			t.Fatalf("%s =/= itself", s)
		}
		Text(v)
		Elems(v)
		if m, ok := v.(Map); ok && len(m) > 0 {
			if _, ok := m.Get(m[0].Key); !ok {
				t.Fatalf("%s: no key %s", s, Format(m[0].Key))
			}
		}
		propGet(v, Atom("a"))
	})
}
