package testkit

import (
	"bytes"
	"image"
	_ "image/png" // QR codes come as PNG
	"testing"
	"time"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// DecodeQRPNG reads the text of the QR code in a PNG image, as a phone's
// camera would.
func DecodeQRPNG(t testing.TB, png []byte) string {
	t.Helper()
	img, _, err := image.Decode(bytes.NewReader(png))
	if err != nil {
		t.Fatalf("decode QR image: %v", err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatalf("QR bitmap: %v", err)
	}
	// A phone camera app keeps trying; so does this: the plain finder first,
	// then harder, then the pure-barcode path for a clean generated image
	// (gozxing's finder misjudges the module size of some codes).
	var lastErr error
	for _, hints := range []map[gozxing.DecodeHintType]any{
		nil,
		{gozxing.DecodeHintType_TRY_HARDER: true},
		{gozxing.DecodeHintType_PURE_BARCODE: true},
	} {
		res, err := qrcode.NewQRCodeReader().Decode(bmp, hints)
		if err == nil {
			return res.GetText()
		}
		lastErr = err
	}
	t.Fatalf("no readable QR code in the image: %v", lastErr)
	return ""
}

// TOTPNow returns the code an authenticator app holding otpauthURL shows at
// the time at (pass the portal's fake clock time, p.Clock.Now()).
func TOTPNow(t testing.TB, otpauthURL string, at time.Time) string {
	t.Helper()
	key, err := otp.NewKeyFromURL(otpauthURL)
	if err != nil {
		t.Fatalf("parse %q: %v", otpauthURL, err)
	}
	if key.Type() != "totp" {
		t.Fatalf("%q is not a TOTP key", otpauthURL)
	}
	code, err := totp.GenerateCodeCustom(key.Secret(), at, totp.ValidateOpts{
		Period: uint(key.Period()), Digits: key.Digits(), Algorithm: key.Algorithm(),
	})
	if err != nil {
		t.Fatalf("compute code: %v", err)
	}
	return code
}

// TOTPCode is the code an authenticator app holding the base32 secret
// shows at the time at, with the portal's settings (six digits, 30 s
// steps, SHA-1).
func TOTPCode(t testing.TB, secret string, at time.Time) string {
	t.Helper()
	code, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatalf("compute code: %v", err)
	}
	return code
}
