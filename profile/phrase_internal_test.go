package profile

import (
	"strings"
	"testing"
)

// Every Polish spelling belongs to a phrase word and folds back to it (the SMS shows the folded word).
func TestPhraseSpelling(t *testing.T) {
	words := map[string]bool{}
	for _, w := range phraseWords {
		words[w] = true
	}
	fold := strings.NewReplacer("ą", "a", "ć", "c", "ę", "e", "ł", "l", "ń", "n", "ó", "o", "ś", "s", "ź", "z", "ż", "z")
	for ascii, pl := range phraseSpelling {
		if !words[ascii] {
			t.Errorf("%q is not a phrase word", ascii)
		}
		if fold.Replace(pl) != ascii || pl == ascii {
			t.Errorf("%q is not the Polish spelling of %q", pl, ascii)
		}
	}
}
