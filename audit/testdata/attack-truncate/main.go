package main

import (
	"encoding/binary"
	"fmt"
	"os"
	"strconv"

	bolt "go.etcd.io/bbolt"
)

// truncate deletes every audit record and stored head with seq > keep (an attacker with write access to the store).
func main() {
	keep, _ := strconv.ParseUint(os.Args[2], 10, 64)
	db, err := bolt.Open(os.Args[1], 0o600, nil)
	if err != nil {
		panic(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range []string{"audit", "audit_heads"} {
			b := tx.Bucket([]byte(name))
			if b == nil {
				return fmt.Errorf("no bucket %s", name)
			}
			var del [][]byte
			b.ForEach(func(k, _ []byte) error {
				if len(k) == 8 && binary.BigEndian.Uint64(k) > keep {
					del = append(del, append([]byte(nil), k...))
				}
				return nil
			})
			for _, k := range del {
				if err := b.Delete(k); err != nil {
					return err
				}
			}
			fmt.Println(name, "deleted", len(del))
		}
		return nil
	})
	if err != nil {
		panic(err)
	}
}
