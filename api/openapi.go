package api

import "github.com/gin-gonic/gin"

func (s *Server) openapi(c *gin.Context) {
	c.Data(200, "application/json", openapiJSON)
}

var openapiJSON = []byte(`{"openapi":"3.1.0","info":{"title":"trustsign","version":"1"},"paths":{}}`)
