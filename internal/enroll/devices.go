package enroll

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"enrollportal/internal/audit"
	"enrollportal/internal/notify"
	"enrollportal/internal/policy"
	"enrollportal/internal/store"
)

// Errors of the device page.
var (
	// ErrLastDevice means removing the device would leave the user with no
	// factor, which the policy does not allow (and no reset is pending).
	ErrLastDevice = errors.New("enroll: the last device cannot be removed")
	// ErrNoSuchDevice means the user has no device with that id.
	ErrNoSuchDevice = errors.New("enroll: no such device")
	// ErrInvalidDeviceName means the name is too long or has control
	// characters.
	ErrInvalidDeviceName = errors.New("enroll: invalid device name")
)

// MaxDeviceNameLength bounds the name a user gives a device.
const MaxDeviceNameLength = 60

// cleanDeviceName trims a device name and checks it; empty clears it.
func cleanDeviceName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if utf8.RuneCountInString(name) > MaxDeviceNameLength || !utf8.ValidString(name) {
		return "", ErrInvalidDeviceName
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return "", ErrInvalidDeviceName
		}
	}
	return name, nil
}

// RenameDevice names one of u's phones, tablets or security keys (its
// public id: "DP..." or "DW..."), audited. A security key's name may not be
// empty (the default name is given instead).
func (s *Service) RenameDevice(ctx context.Context, u store.User, deviceKey, name string, who audit.Who) error {
	name, err := cleanDeviceName(name)
	if err != nil {
		return err
	}
	now := s.clock.Now()
	return s.store.InTx(ctx, func(q store.Queries) error {
		ph, key, err := deviceOf(ctx, q, u, deviceKey)
		if err != nil {
			return err
		}
		if ph != nil {
			if err := q.SetPhoneName(ctx, ph.ID, name); err != nil {
				return err
			}
			return q.InsertAudit(ctx, audit.Entry(now, who, audit.PhoneRenamed, audit.TargetUser, u.Username,
				map[string]any{"phone_id": ph.Key, "name": name}))
		}
		if name == "" {
			name = DefaultKeyName
		}
		if err := q.SetSecurityKeyName(ctx, u.ID, key.ID, name); err != nil {
			return err
		}
		return q.InsertAudit(ctx, audit.Entry(now, who, audit.SecurityKeyRenamed, audit.TargetUser, u.Username,
			map[string]any{"key_id": key.Key, "name": name}))
	})
}

// RemoveDevice takes one of u's phones, tablets or security keys off their
// account, audited, and emails the user about it (through the outbox), in
// one transaction. A phone shared with other users stays theirs; a phone of
// no one else is deleted, so its codes stop working everywhere. The last
// factor goes only when the global policy lets users without a factor in
// (new-user policy "allow") or while an admin's reset is pending (the user
// is replacing a lost device): ErrLastDevice otherwise.
func (s *Service) RemoveDevice(ctx context.Context, u store.User, deviceKey string, who audit.Who) error {
	now := s.clock.Now()
	return s.store.InTx(ctx, func(q store.Queries) error {
		ph, key, err := deviceOf(ctx, q, u, deviceKey)
		if err != nil {
			return err
		}
		var label string
		if ph != nil {
			label = PhoneLabel(*ph)
			if err := q.DetachPhone(ctx, u.ID, ph.ID); err != nil {
				return err
			}
			others, err := q.UsersOfPhone(ctx, ph.ID)
			if err != nil {
				return err
			}
			if len(others) == 0 {
				if err := q.DeletePhone(ctx, ph.ID); err != nil {
					return err
				}
			}
			err = q.InsertAudit(ctx, audit.Entry(now, who, audit.PhoneRemoved, audit.TargetUser, u.Username,
				map[string]any{"phone_id": ph.Key, "type": ph.Type, "number": ph.Number, "deleted": len(others) == 0}))
			if err != nil {
				return err
			}
		} else {
			label = "Security key \"" + key.Name + "\""
			if err := q.DeleteSecurityKey(ctx, u.ID, key.ID); err != nil {
				return err
			}
			if err := q.InsertAudit(ctx, audit.Entry(now, who, audit.SecurityKeyRemoved, audit.TargetUser, u.Username,
				map[string]any{"key_id": key.Key, "name": key.Name})); err != nil {
				return err
			}
		}
		global, err := q.GlobalPolicy(ctx)
		if err != nil {
			return err
		}
		if policy.Resolve(global, nil, nil).NewUserPolicy != store.NewUserAllow {
			has, err := q.HasFactor(ctx, u.ID)
			if err != nil {
				return err
			}
			reset, err := q.HasLiveResetLink(ctx, u.ID, now)
			if err != nil {
				return err
			}
			if !has && !reset {
				return ErrLastDevice
			}
		}
		return s.deviceChangeEmailTx(ctx, q, u, notify.DeviceRemoved, label, now)
	})
}

// deviceOf finds u's phone or security key by its public id.
func deviceOf(ctx context.Context, q store.Queries, u store.User, deviceKey string) (*store.Phone, *store.SecurityKey, error) {
	phones, err := q.PhonesByUser(ctx, u.ID)
	if err != nil {
		return nil, nil, fmt.Errorf("enroll: devices: %w", err)
	}
	for i := range phones {
		if phones[i].Key == deviceKey {
			return &phones[i], nil, nil
		}
	}
	keys, err := q.SecurityKeysByUser(ctx, u.ID)
	if err != nil {
		return nil, nil, fmt.Errorf("enroll: devices: %w", err)
	}
	for i := range keys {
		if keys[i].Key == deviceKey {
			return nil, &keys[i], nil
		}
	}
	return nil, nil, ErrNoSuchDevice
}
