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
	res, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("no readable QR code in the image: %v", err)
	}
	return res.GetText()
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
