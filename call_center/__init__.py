"""AlMasar call center: a Reflex app with browser calls, recordings and a live call history."""
