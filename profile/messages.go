package profile

import (
	"fmt"
	"strings"

	"github.com/trustsign/trustsign/notify"
	"github.com/trustsign/trustsign/store"
)

// The texts holders receive, in Polish. SMS texts stay short and free of diacritics where they carry the
// document name and phrase; e-mails say more. Every code message warns that nobody may ask for the code.

const warning = "Nie podawaj tego kodu nikomu. Pracownik urzędu, banku ani serwisu nigdy o niego nie prosi."

func (s *Service) message(p store.Profile, subject, email, sms, code string) notify.Message {
	m := notify.Message{Subject: subject, Code: code}
	if Channel(p.CodeChannel) == ChannelSMS {
		m.Channel, m.To, m.Body = notify.SMS, p.Phone, sms
	} else {
		m.Channel, m.To, m.Body = notify.Email, p.Email, email
	}
	return m
}

func minutes(s *Service) int { return int(s.o.Codes.TTL.Minutes()) }

func (s *Service) contactMessage(p store.Profile, code string, _ CodeInfo) notify.Message {
	email := fmt.Sprintf(`Dzień dobry,

otrzymaliśmy wniosek o założenie profilu zaufanego (numer wniosku %s).
Aby potwierdzić ten adres jako kanał autoryzacji, wpisz kod:

%s

Kod jest ważny %d minut. %s
Jeśli to nie Ty składasz wniosek, zignoruj tę wiadomość.
`, p.ApplicationNumber, code, minutes(s), warning)
	sms := fmt.Sprintf("Profil zaufany: kod potwierdzenia kanalu autoryzacji %s (wazny %d min). Nie podawaj go nikomu.", code, minutes(s))
	return s.message(p, "Profil zaufany – kod potwierdzenia wniosku", email, sms, code)
}

func (s *Service) duplicateNotice(p store.Profile, what string) notify.Message {
	which := "Twój login"
	if what == "pesel" {
		which = "Twój numer PESEL"
	}
	email := fmt.Sprintf(`Dzień dobry,

ktoś próbował właśnie założyć nowy profil zaufany, podając %s. Nowy profil nie został założony.
Jeśli to Ty, zaloguj się na swoje istniejące konto (możesz też odzyskać hasło).
Jeśli to nie Ty, nic nie musisz robić; w razie wątpliwości skontaktuj się z punktem potwierdzającym.
`, which)
	sms := "Profil zaufany: ktos probowal zalozyc nowy profil z Twoimi danymi. Nie zostal zalozony. Jesli to Ty, zaloguj sie na istniejace konto."
	return s.message(p, "Profil zaufany – próba ponownej rejestracji", email, sms, "")
}

func (s *Service) signingMessage(p store.Profile, code string, bs []store.Binding, ci CodeInfo) notify.Message {
	names := make([]string, len(bs))
	for i, b := range bs {
		names[i] = "„" + b.DocName + "”"
	}
	what := "dokumentu " + names[0]
	smsWhat := "dokumentu " + asciiName(bs[0].DocName)
	if len(bs) > 1 {
		what = fmt.Sprintf("%d dokumentów: %s", len(bs), strings.Join(names, ", "))
		smsWhat = fmt.Sprintf("%d dokumentow", len(bs))
	}
	email := fmt.Sprintf(`Dzień dobry,

kod autoryzacyjny do podpisania podpisem zaufanym %s:

%s

Słowa kontrolne: %s
Sprawdź, czy na ekranie podpisu widzisz te same słowa. Jeśli są inne, nie wpisuj kodu.

Kod jest ważny %d minut i tylko dla tego podpisu. %s
`, what, code, strings.ToUpper(DisplayPhrase(ci.Phrase)), minutes(s), warning) // e-mail: the words as the page spells them
	sms := fmt.Sprintf("Podpis zaufany %s, slowa kontrolne: %s. Kod: %s (wazny %d min). Nie podawaj go nikomu.",
		smsWhat, strings.ToUpper(ci.Phrase), code, minutes(s))
	return s.message(p, "Podpis zaufany – kod autoryzacyjny", email, sms, code)
}

func (s *Service) extensionMessage(p store.Profile, code string) notify.Message {
	email := fmt.Sprintf(`Dzień dobry,

kod autoryzacyjny do przedłużenia ważności profilu zaufanego:

%s

Kod jest ważny %d minut. %s
`, code, minutes(s), warning)
	sms := fmt.Sprintf("Profil zaufany: kod przedluzenia waznosci profilu %s (wazny %d min). Nie podawaj go nikomu.", code, minutes(s))
	return s.message(p, "Profil zaufany – kod przedłużenia ważności", email, sms, code)
}

func (s *Service) statusNotice(p store.Profile, to Status) notify.Message {
	var txt string
	switch to {
	case Active:
		txt = "Twój profil zaufany jest aktywny."
	case Revoked:
		txt = "Twój profil zaufany został unieważniony na Twoje żądanie."
	case Invalid:
		txt = "Twój profil zaufany został unieważniony przez administratora."
	case Expired:
		txt = "Twój profil zaufany wygasł. Aby dalej z niego korzystać, złóż nowy wniosek."
	default:
		txt = "Status Twojego profilu zaufanego zmienił się."
	}
	return s.message(p, "Profil zaufany – zmiana statusu", "Dzień dobry,\n\n"+txt+"\n", "Profil zaufany: "+asciiText(txt), "")
}

var asciiFold = strings.NewReplacer("ą", "a", "ć", "c", "ę", "e", "ł", "l", "ń", "n", "ó", "o", "ś", "s", "ź", "z", "ż", "z",
	"Ą", "A", "Ć", "C", "Ę", "E", "Ł", "L", "Ń", "N", "Ó", "O", "Ś", "S", "Ź", "Z", "Ż", "Z")

func asciiText(s string) string { return asciiFold.Replace(s) }

// asciiName shortens and folds a document name for an SMS (GSM-7 keeps 160 characters per message).
func asciiName(n string) string {
	n = asciiText(n)
	r := []rune(n)
	if len(r) > 30 {
		n = string(r[:29]) + "~"
	}
	return "\"" + n + "\""
}
