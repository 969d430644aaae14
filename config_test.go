package internalauth

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCreateConfigDefaults(t *testing.T) {
	cfg := CreateConfig()
	require.NotNil(t, cfg)
	assert.Equal(t, "5m", cfg.MaxAge)
	assert.True(t, cfg.RequireNonce)
	assert.Equal(t, []string{"a"}, []string{"a"})
}
