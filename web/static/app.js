// Instant feedback on the registration form. The server checks everything again; without this script the
// form works the same, only the messages come after sending.
(function () {
  "use strict";
  var form = document.getElementById("register-form");
  if (!form) { return; }
  var pl = document.documentElement.lang !== "en";
  var msg = {
    peselBad: pl ? "PESEL musi mieć 11 cyfr z poprawną cyfrą kontrolną i datą urodzenia." : "A PESEL has 11 digits with a valid check digit and date of birth.",
    peselOk: pl ? "PESEL wygląda poprawnie." : "The PESEL looks right.",
    pwOk: pl ? "Hasło spełnia wszystkie warunki." : "The password meets all the rules.",
    pwMissing: pl ? "Brakuje: " : "Missing: ",
    repeatBad: pl ? "Hasła nie są takie same." : "The passwords do not match."
  };

  function live(id, text, good) {
    var el = document.getElementById(id + "-live");
    var input = document.getElementById(id);
    if (!el || !input) { return; }
    el.textContent = text;
    el.className = "live" + (text ? (good ? " good" : " bad") : "");
    if (text && !good) { input.setAttribute("aria-invalid", "true"); } else { input.removeAttribute("aria-invalid"); }
  }

  // PESEL: weights 1,3,7,9 repeated, check digit (10 - sum mod 10) mod 10, date with the century in the month.
  function peselValid(p) {
    if (!/^[0-9]{11}$/.test(p)) { return false; }
    var w = [1, 3, 7, 9, 1, 3, 7, 9, 1, 3], sum = 0, i;
    for (i = 0; i < 10; i++) { sum += w[i] * (p.charCodeAt(i) - 48); }
    if ((10 - sum % 10) % 10 !== p.charCodeAt(10) - 48) { return false; }
    var yy = +p.slice(0, 2), mm = +p.slice(2, 4), dd = +p.slice(4, 6), year;
    if (mm >= 81 && mm <= 92) { year = 1800 + yy; mm -= 80; }
    else if (mm >= 1 && mm <= 12) { year = 1900 + yy; }
    else if (mm >= 21 && mm <= 32) { year = 2000 + yy; mm -= 20; }
    else if (mm >= 41 && mm <= 52) { year = 2100 + yy; mm -= 40; }
    else if (mm >= 61 && mm <= 72) { year = 2200 + yy; mm -= 60; }
    else { return false; }
    var d = new Date(Date.UTC(year, mm - 1, dd));
    return d.getUTCFullYear() === year && d.getUTCMonth() === mm - 1 && d.getUTCDate() === dd;
  }

  var pesel = document.getElementById("pesel");
  if (pesel) {
    var checkPesel = function (final) {
      var v = pesel.value.trim();
      if (v === "") { live("pesel", "", true); return; }
      if (v.length < 11 && !final) { live("pesel", "", true); return; }
      if (peselValid(v)) { live("pesel", msg.peselOk, true); } else { live("pesel", msg.peselBad, false); }
    };
    pesel.addEventListener("input", function () { checkPesel(false); });
    pesel.addEventListener("blur", function () { checkPesel(true); });
  }

  var pw = document.getElementById("password");
  var pw2 = document.getElementById("password2");
  var rules = document.getElementById("password-rules");
  function checkPassword() {
    var v = pw.value, chars = Array.from(v);
    var met = {
      length: chars.length >= 8,
      upper: chars.some(function (c) { return c !== c.toLowerCase(); }),
      lower: chars.some(function (c) { return c !== c.toUpperCase(); }),
      other: chars.some(function (c) { return c.toLowerCase() === c.toUpperCase(); })
    };
    var missing = [];
    if (rules) {
      Array.prototype.forEach.call(rules.querySelectorAll("li[data-rule]"), function (li) {
        var ok = met[li.getAttribute("data-rule")];
        li.classList.toggle("met", ok);
        if (!ok) { missing.push(li.textContent.trim()); }
      });
    }
    if (v === "") { live("password", "", true); }
    else if (missing.length === 0) { live("password", msg.pwOk, true); }
    else { live("password", msg.pwMissing + missing.join(", "), false); }
    if (pw2 && pw2.value !== "") { checkRepeat(); }
  }
  function checkRepeat() {
    if (pw2.value === "" || pw2.value === pw.value) { live("password2", "", true); }
    else { live("password2", msg.repeatBad, false); }
  }
  if (pw) { pw.addEventListener("input", checkPassword); }
  if (pw2) { pw2.addEventListener("blur", checkRepeat); pw2.addEventListener("input", function () { if (pw2.value === pw.value) { checkRepeat(); } }); }
})();
