package admin

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // logos may be JPEG
	_ "image/png"  // or PNG
	"io"
	"mime/multipart"
)

// An uploaded logo is at most maxLogoBytes long and maxLogoSide pixels a side.
const (
	maxLogoBytes = 256 << 10
	maxLogoSide  = 4096
)

// readLogoUpload checks an uploaded logo: PNG or JPEG, at most 256 KB and
// 4096 pixels a side. The error is a sentence for the admin.
func readLogoUpload(fh *multipart.FileHeader) (data []byte, ctype string, err error) {
	if fh.Size > maxLogoBytes {
		return nil, "", errors.New("The logo file is too large; use an image of at most 256 KB.")
	}
	f, err := fh.Open()
	if err != nil {
		return nil, "", errors.New("The logo could not be read. Try uploading it again.")
	}
	defer f.Close()
	data, err = io.ReadAll(io.LimitReader(f, maxLogoBytes+1))
	if err != nil || len(data) > maxLogoBytes {
		return nil, "", errors.New("The logo file is too large; use an image of at most 256 KB.")
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || (format != "png" && format != "jpeg") {
		return nil, "", errors.New("The logo must be a PNG or JPEG image.")
	}
	if cfg.Width < 1 || cfg.Height < 1 || cfg.Width > maxLogoSide || cfg.Height > maxLogoSide {
		return nil, "", fmt.Errorf("The logo may be at most %d pixels wide and high.", maxLogoSide)
	}
	return data, "image/" + format, nil
}
