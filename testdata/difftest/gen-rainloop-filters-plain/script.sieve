require ["fileinto","vacation","reject"];

/*
BEGIN:FILTER:9d8c
BEGIN:HEADER
eyJJRCI6IjlkOGMiLCJFbmFibGVkIjp0cnVlfQ==
END:HEADER
*/
if header :contains ["Subject"] ["[dev]"]
{
	fileinto "Dev";
	stop;
}
/* END:FILTER */
/*
BEGIN:FILTER:ab12
BEGIN:HEADER
eyJJRCI6ImFiMTIifQ==
END:HEADER
*/
if true
{
	vacation :days 1 :subject "Out of office" "Away.";
}
/* END:FILTER */
