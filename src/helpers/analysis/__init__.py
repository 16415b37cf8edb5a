"""The three analyses on contract datasets: referral variation, scale effects and contract forms."""
