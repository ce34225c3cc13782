package audit

import (
	"encoding/json"
	"fmt"
	"os"
)

// AppendHeadFile appends a seal record to a heads file (JSON Lines, the export format; `trustsign audit verify
// --heads FILE` reads it) and syncs it. Keep the file, or a copy of it, where whoever can change the store cannot:
// a head published there and missing from the log shows that the log was cut.
func AppendHeadFile(path string, r Record) error {
	if r.Kind != KindSeal {
		return fmt.Errorf("audit: record %d is not a seal", r.Seq)
	}
	line, err := json.Marshal(r)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
