package web

import "github.com/gin-gonic/gin"

// enrollRoutes registers the enrollment-link pages.
func (s *Server) enrollRoutes(pages *gin.RouterGroup) {
	link := pages.Group("/enroll/:token", s.loadLinkEnrollment)
	s.EnrollSteps(link)
	link.GET("/prove", s.EnrollProveGET)
	link.POST("/prove", s.EnrollProvePOST)
	link.POST("/prove/sms", s.EnrollProveSMSPOST)
	link.POST("/prove/key/options", s.EnrollProveKeyOptionsPOST)
	link.POST("/prove/key/verify", s.EnrollProveKeyVerifyPOST)
	pages.POST("/enroll/:token/renew", s.EnrollRenewPOST)
}

// EnrollSteps registers the enrollment steps on a group whose middleware has
// set the enrollment context (see enrollment). The inline prompt mounts the
// same steps under its own prefix with its own loader.
func (s *Server) EnrollSteps(g *gin.RouterGroup) {
	g.GET("", s.EnrollWelcomeGET)
	g.GET("/choose", s.EnrollChooseGET)
	g.POST("/choose", s.EnrollChoosePOST)
	g.GET("/phone", s.EnrollPhoneGET)
	g.POST("/phone", s.EnrollPhonePOST)
	g.GET("/platform", s.EnrollPlatformGET)
	g.POST("/platform", s.EnrollPlatformPOST)
	g.GET("/app", s.EnrollAppGET)
	g.GET("/app/qr.png", s.EnrollAppQRGET)
	g.POST("/app", s.EnrollAppPOST)
	g.GET("/key", s.EnrollKeyGET)
	g.POST("/key/options", s.EnrollKeyOptionsPOST)
	g.POST("/key", s.EnrollKeyPOST)
	g.GET("/done", s.EnrollDoneGET)
}
