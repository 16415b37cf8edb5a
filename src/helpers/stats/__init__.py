"""Statistics with no knowledge of the data contract: rates, funnels, SPC, variance partition, interrupted time series, the payment engine, disclosure control."""
