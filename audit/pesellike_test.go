package audit

import (
	"regexp"
	"testing"
)

// the expression peselLike spells out
var peselLikeRE = regexp.MustCompile(`^[0-9]{11}$|PNOPL-[0-9]{11}`)

func TestPESELLikeMatchesTheExpression(t *testing.T) {
	for _, s := range []string{"", "44051401359", "4405140135", "440514013590", "x44051401359", "PNOPL-44051401359",
		"CN=Jan,serialNumber=PNOPL-44051401359,C=PL", "PNOPL-4405140135", "PNOPL-PNOPL-44051401359", "PNOPL-4405140135x",
		"PNOPL-440514013591", "pnopl-44051401359", "sha256:4405140135944051401359", "٤٤٠٥١٤٠١٣٥٩"} {
		if got, want := peselLike(s), peselLikeRE.MatchString(s); got != want {
			t.Errorf("peselLike(%q) = %v, the expression says %v", s, got, want)
		}
	}
}

func FuzzPESELLike(f *testing.F) {
	f.Add("PNOPL-44051401359")
	f.Add("44051401359")
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := peselLike(s), peselLikeRE.MatchString(s); got != want {
			t.Errorf("peselLike(%q) = %v, the expression says %v", s, got, want)
		}
	})
}
