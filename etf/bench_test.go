package etf

import (
	"os"
	"testing"
)

func BenchmarkDecodeAnswers(b *testing.B) {
	in, err := os.ReadFile(answersFile)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFormatAnswers(b *testing.B) {
	in, err := os.ReadFile(answersFile)
	if err != nil {
		b.Fatal(err)
	}
	t, err := Decode(in)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		Format(t)
	}
}
