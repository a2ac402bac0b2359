package agent

import "testing"

func BenchmarkDetectEscalation(b *testing.B) {
	lines := loadEscalationCorpus(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		DetectEscalation(lines[i%len(lines)].text)
	}
}

func BenchmarkScriptNext(b *testing.B) {
	for i := 0; i < b.N; i++ {
		var s Script
		s.Next("Dana, haircut tomorrow 3pm", salon, monday, newYork)
	}
}
