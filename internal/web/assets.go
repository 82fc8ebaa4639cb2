package web

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"

	"github.com/gin-gonic/gin"

	assetfiles "enrollportal/assets"
)

type asset struct {
	body        []byte
	hash        string
	contentType string
}

// assets are the embedded static files, read and hashed once at start.
type assets struct {
	files map[string]asset
}

func loadAssets() (*assets, error) {
	a := &assets{files: map[string]asset{}}
	err := fs.WalkDir(assetfiles.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Ext(p) == ".go" {
			return err
		}
		body, err := fs.ReadFile(assetfiles.FS, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		ct := mime.TypeByExtension(path.Ext(p))
		if ct == "" {
			ct = "application/octet-stream"
		}
		a.files[p] = asset{body: body, hash: hex.EncodeToString(sum[:])[:12], contentType: ct}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("web: assets: %w", err)
	}
	return a, nil
}

// url is the cache-busted address of an asset, for templates. An unknown
// name panics during the first render of the page, which the start-up
// render check catches.
func (a *assets) url(name string) string {
	f, ok := a.files[name]
	if !ok {
		panic("web: unknown asset " + name)
	}
	return "/assets/" + name + "?v=" + f.hash
}

// Asset serves an embedded file. With the current hash in the URL it may be
// cached for a year; without it, it must be revalidated.
func (s *Server) Asset(c *gin.Context) {
	name := path.Clean(c.Param("file"))[1:]
	f, ok := s.assets.files[name]
	if !ok {
		c.Status(http.StatusNotFound)
		return
	}
	if c.Query("v") == f.hash {
		c.Header("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		c.Header("Cache-Control", "no-cache")
	}
	c.Header("ETag", `"`+f.hash+`"`)
	if c.GetHeader("If-None-Match") == `"`+f.hash+`"` {
		c.Status(http.StatusNotModified)
		return
	}
	c.Data(http.StatusOK, f.contentType, f.body)
}

// Favicon answers /favicon.ico, which browsers and bookmark tools ask for by
// themselves, with the portal's icon (the SVG logo, as the pages' own icon
// link names it) instead of a 404.
func (s *Server) Favicon(c *gin.Context) {
	f := s.assets.files["logo.svg"]
	c.Header("Cache-Control", "public, max-age=86400")
	c.Data(http.StatusOK, f.contentType, f.body)
}
